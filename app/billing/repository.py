"""Every query of the billing domain."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from app import tally
from app.billing.models import CdrView, PartnerDeliveries, PaymentView, SettlementLine
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from db.engine import locking_rows
from db.paging import page_by_id
from db.tables import Cdr, ChargingSession, Payment, Refund, WebhookEvent


async def revenue_by_currency(
    organization_id: int,
    site_id: int | None,
    ended_from: datetime | None,
    ended_before: datetime | None,
) -> list[dict[str, Any]]:
    """Charged amounts incl. VAT of the CDRs that ended in the period, per currency; with no
    period, from the tallies."""
    if ended_from is None and ended_before is None:
        return [
            {"currency": figure.label, "amount": figure.amount}
            for figure in await tally.figures(organization_id, site_id, "revenue")
        ]
    clauses: list[str] = ["c.organization = {}"]
    arguments: list[Any] = [organization_id]
    join = ""
    if site_id is not None:
        join = (
            " JOIN charging_session cs ON cs.id = c.session"
            " JOIN charging_station st ON st.id = cs.station"
        )
        clauses.append("st.site = {}")
        arguments.append(site_id)
    if ended_from is not None:
        clauses.append("c.ended_at >= {}")
        arguments.append(ended_from)
    if ended_before is not None:
        clauses.append("c.ended_at < {}")
        arguments.append(ended_before)
    return list(
        await Cdr.raw(
            "SELECT c.currency AS currency, "  # noqa: S608
            "COALESCE(SUM(c.total_cost_incl_vat_minor), 0) AS amount "
            f"FROM cdr c{join} WHERE " + " AND ".join(clauses) + " GROUP BY c.currency",
            *arguments,
        )
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_CDR_COLUMNS = (
    Cdr.id,
    Cdr.session,
    Cdr.code,
    Cdr.currency,
    Cdr.started_at,
    Cdr.ended_at,
    Cdr.total_energy_wh,
    Cdr.total_time_s,
    Cdr.total_parking_time_s,
    Cdr.total_cost_excl_vat_minor,
    Cdr.total_cost_incl_vat_minor,
    Cdr.cost_breakdown,
    Cdr.charging_periods,
    Cdr.tariff_snapshot,
    Cdr.location,
    Cdr.credit,
    Cdr.credit_reference,
    Cdr.finalized_at,
    Cdr.created_at,
    Cdr.token,
    Cdr.signed_data,
    Cdr.partner,
    Cdr.partner_delivered_at,
    Cdr.partner_refusal,
)


def _cdr(row: dict[str, Any]) -> CdrView:
    row["session_id"] = row.pop("session")
    row["credit_reference_id"] = row.pop("credit_reference")
    row["partner_id"] = row.pop("partner")
    for name in (
        "cost_breakdown",
        "charging_periods",
        "tariff_snapshot",
        "location",
        "token",
        "signed_data",
    ):
        row[name] = _json(row[name])
    return CdrView(**row)


def _cdrs(organization_id: int, owner_id: int | None) -> Any:
    query = Cdr.select(*_CDR_COLUMNS).where(Cdr.organization == organization_id)
    return query if owner_id is None else query.where(Cdr.session.user == owner_id)


async def page_cdrs(
    organization_id: int, owner_id: int | None, session_id: int | None, request: PageRequest
) -> Page[CdrView]:
    """CDRs, newest first; `owner_id` keeps those of one driver's sessions."""
    query = _cdrs(organization_id, owner_id)
    if session_id is not None:
        query = query.where(Cdr.session == session_id)
    return await page_by_id(query, Cdr.id, request, _cdr, newest_first=True)


async def cdrs_by_ids(
    organization_id: int, owner_id: int | None, cdr_ids: Sequence[int]
) -> list[CdrView]:
    rows = await _cdrs(organization_id, owner_id).where(Cdr.id.is_in(list(cdr_ids)))
    return [_cdr(row) for row in rows]


async def cdrs_by_session_ids(
    organization_id: int, owner_id: int | None, session_ids: Sequence[int]
) -> list[CdrView]:
    rows = await _cdrs(organization_id, owner_id).where(Cdr.session.is_in(list(session_ids)))
    return [_cdr(row) for row in rows]


_PAYMENT_COLUMNS = (
    Payment.id,
    Payment.organization,
    Payment.session,
    Payment.cdr,
    Payment.user,
    Payment.id_token,
    Payment.provider,
    Payment.provider_payment_id,
    Payment.kind,
    Payment.status,
    Payment.currency,
    Payment.authorized_minor,
    Payment.captured_minor,
    Payment.refunded_minor,
    Payment.receipt_number,
    Payment.created_at,
    Payment.updated_at,
)


def _payment(row: dict[str, Any]) -> PaymentView:
    for name in ("organization", "session", "cdr", "user", "id_token"):
        row[f"{name}_id"] = row.pop(name)
    return PaymentView(**row)


def _payments(organization_id: int, owner_id: int | None) -> Any:
    query = Payment.select(*_PAYMENT_COLUMNS).where(Payment.organization == organization_id)
    return query if owner_id is None else query.where(Payment.user == owner_id)


async def page_payments(
    organization_id: int, owner_id: int | None, status: str | None, request: PageRequest
) -> Page[PaymentView]:
    """Payments, newest first; `owner_id` keeps one driver's."""
    query = _payments(organization_id, owner_id)
    if status is not None:
        query = query.where(Payment.status == status)
    return await page_by_id(query, Payment.id, request, _payment, newest_first=True)


async def payments_by_ids(
    organization_id: int, owner_id: int | None, payment_ids: Sequence[int]
) -> list[PaymentView]:
    rows = await _payments(organization_id, owner_id).where(Payment.id.is_in(list(payment_ids)))
    return [_payment(row) for row in rows]


async def insert_cdr(organization_id: int, values: dict[str, Any]) -> int | None:
    """A session's CDR, once: None if its code (one per session) exists already."""
    if await Cdr.exists().where(Cdr.code == values["code"]):
        return None
    cdr = Cdr(organization=organization_id, **values)
    await cdr.save()
    return int(cdr.id)


async def cdr_by_id(cdr_id: int) -> CdrView:
    row = await Cdr.select(*_CDR_COLUMNS).where(Cdr.id == cdr_id).first()
    assert row is not None
    return _cdr(row)


async def create_payment(
    organization_id: int, user_id: int | None, currency: str, kind: str, status: str
) -> int:
    payment = Payment(
        organization=organization_id,
        user=user_id,
        currency=currency,
        kind=kind,
        status=status,
        # Unique: a placeholder until the provider has given its id.
        provider_payment_id=f"pending:{uuid.uuid4().hex}",
    )
    await payment.save()
    return int(payment.id)


async def update_payment(payment_id: int, values: dict[str, Any]) -> None:
    await Payment.update({getattr(Payment, name): value for name, value in values.items()}).where(
        Payment.id == payment_id
    )


async def payment_by_id(payment_id: int, *, lock: bool = False) -> PaymentView:
    """`lock`: inside a transaction, held until it ends (a status about to be changed from
    what is read)."""
    query = Payment.select(*_PAYMENT_COLUMNS).where(Payment.id == payment_id)
    row = await (locking_rows(query) if lock else query).first()
    assert row is not None
    return _payment(row)


async def payment_by_provider_id(
    provider_payment_id: str, *, lock: bool = False
) -> PaymentView | None:
    query = Payment.select(*_PAYMENT_COLUMNS).where(
        Payment.provider_payment_id == provider_payment_id
    )
    row = await (locking_rows(query) if lock else query).first()
    return _payment(row) if row else None


async def preauth_of_session(organization_id: int, session_id: int) -> PaymentView | None:
    """The hold a session was started with: linked already, or through its one-off token."""
    session = (
        await ChargingSession.select(ChargingSession.id_token)
        .where(ChargingSession.id == session_id)
        .first()
    )
    query = Payment.select(*_PAYMENT_COLUMNS).where(
        (Payment.organization == organization_id) & (Payment.kind == "preauth")
    )
    if session is not None and session["id_token"] is not None:
        query = query.where(
            (Payment.session == session_id) | (Payment.id_token == session["id_token"])
        )
    else:
        query = query.where(Payment.session == session_id)
    row = await query.first()
    return _payment(row) if row else None


async def token_was_used(payment: PaymentView) -> bool:
    if payment.id_token_id is None:
        return False
    return await ChargingSession.exists().where(ChargingSession.id_token == payment.id_token_id)


async def store_webhook_event(
    provider: str, event_id: str, event_type: str, payload: dict[str, Any]
) -> bool:
    """False when this event was stored before (a redelivery). A concurrent delivery of the
    same event waits on the unique index for this transaction, then finds it stored."""
    stored = (
        await WebhookEvent.insert(
            WebhookEvent(
                provider=provider, event_id=event_id, type=event_type[:100], payload=payload
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(WebhookEvent.id)
    )
    return bool(stored)


async def mark_webhook_processed(provider: str, event_id: str) -> None:
    await WebhookEvent.update({WebhookEvent.processed_at: utcnow()}).where(
        (WebhookEvent.provider == provider) & (WebhookEvent.event_id == event_id)
    )


async def create_refund(
    organization_id: int,
    payment: PaymentView,
    amount_minor: int,
    reason: str | None,
    user_id: int | None,
) -> int:
    refund = Refund(
        organization=organization_id,
        payment=payment.id,
        amount_minor=amount_minor,
        currency=payment.currency,
        reason=reason[:255] if reason else None,
        created_by=user_id,
    )
    await refund.save()
    return int(refund.id)


async def finish_refund(
    refund_id: int, provider_refund_id: str | None, status: str, payment_id: int, amount: int
) -> None:
    await Refund.update(
        {Refund.status: status, Refund.provider_refund_id: provider_refund_id}
    ).where(Refund.id == refund_id)
    if amount:
        await Payment.update({Payment.refunded_minor: Payment.refunded_minor + amount}).where(
            Payment.id == payment_id
        )


async def unsettled_payments(ended_before: datetime) -> list[PaymentView]:
    """Payments still held or being charged, or declined, for sessions that ended before."""
    rows = await Payment.select(*_PAYMENT_COLUMNS).where(
        Payment.status.is_in(["authorized", "charging", "declined"])
        & (Payment.session.ended_at < ended_before)
    )
    return [_payment(row) for row in rows]


async def is_credited(cdr_id: int) -> bool:
    return await Cdr.exists().where(Cdr.credit_reference == cdr_id)


async def credit(original: CdrView) -> int:
    """Insert the credit CDR of `original`: all its data, the totals negative (OCPI); the
    number of corrections of its session so far, this one included."""
    row = await Cdr.select().where(Cdr.id == original.id).first()
    assert row is not None
    for name in ("id", "created_at", "finalized_at", "partner_delivered_at", "partner_refusal"):
        row.pop(name)
    row.update(
        code=f"{original.code}-C",
        credit=True,
        credit_reference=original.id,
        total_cost_excl_vat_minor=-original.total_cost_excl_vat_minor,
        total_cost_incl_vat_minor=-original.total_cost_incl_vat_minor,
        finalized_at=utcnow(),
    )
    await Cdr.insert(Cdr(**row))
    return await Cdr.count().where((Cdr.session == original.session_id) & (Cdr.credit == True))  # noqa: E712


# A roaming partner's CDRs: those of its tokens, each sent to it once.


async def undelivered_cdrs(partner_id: int, limit: int) -> list[CdrView]:
    """The partner's CDRs not yet sent (nor refused), oldest first."""
    rows = (
        await Cdr.select(*_CDR_COLUMNS)
        .where(
            (Cdr.partner == partner_id)
            & Cdr.partner_delivered_at.is_null()
            & Cdr.partner_refusal.is_null()
        )
        .order_by(Cdr.id)
        .limit(limit)
    )
    return await _with_credited_codes([_cdr(row) for row in rows])


async def _with_credited_codes(cdrs: list[CdrView]) -> list[CdrView]:
    """Credit CDRs name the CDR they credit by its code."""
    credited = {cdr.credit_reference_id for cdr in cdrs if cdr.credit_reference_id is not None}
    if not credited:
        return cdrs
    rows = await Cdr.select(Cdr.id, Cdr.code).where(Cdr.id.is_in(list(credited)))
    codes = {row["id"]: row["code"] for row in rows}
    return [
        dataclasses.replace(cdr, credit_reference_code=codes.get(cdr.credit_reference_id))
        if cdr.credit_reference_id is not None
        else cdr
        for cdr in cdrs
    ]


async def mark_delivered(cdr_id: int, at: datetime) -> None:
    await Cdr.update({Cdr.partner_delivered_at: at}).where(Cdr.id == cdr_id)


async def mark_refused(cdr_id: int, reason: str) -> None:
    await Cdr.update({Cdr.partner_refusal: reason[:255]}).where(Cdr.id == cdr_id)


async def clear_refusal(cdr_id: int) -> None:
    """A refused CDR of a partner's token is to be sent again."""
    await Cdr.update({Cdr.partner_refusal: None}).where(Cdr.id == cdr_id)


async def partner_cdrs(
    partner_id: int,
    created_from: datetime | None,
    created_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[CdrView], int]:
    """A page of the partner's CDRs, oldest first, and how many there are in all."""
    rows = Cdr.select(*_CDR_COLUMNS).where(Cdr.partner == partner_id)
    total = Cdr.count().where(Cdr.partner == partner_id)
    if created_from is not None:
        rows = rows.where(Cdr.created_at >= created_from)
        total = total.where(Cdr.created_at >= created_from)
    if created_to is not None:
        rows = rows.where(Cdr.created_at < created_to)
        total = total.where(Cdr.created_at < created_to)
    found = await rows.order_by(Cdr.id).offset(offset).limit(limit)
    return await _with_credited_codes([_cdr(row) for row in found]), await total


async def partner_deliveries(partner_ids: Sequence[int]) -> dict[int, PartnerDeliveries]:
    """Each partner's CDRs still to send and those it refused."""
    if not partner_ids:
        return {}
    counts: dict[bool, dict[int, int]] = {}
    for refused in (False, True):
        refusal = Cdr.partner_refusal.is_not_null() if refused else Cdr.partner_refusal.is_null()
        rows = (
            await Cdr.select(Cdr.partner, Count(alias="count"))
            .where(
                Cdr.partner.is_in(list(partner_ids)) & Cdr.partner_delivered_at.is_null() & refusal
            )
            .group_by(Cdr.partner)
        )
        counts[refused] = {row["partner"]: int(row["count"]) for row in rows}
    return {
        partner_id: PartnerDeliveries(
            pending=counts[False].get(partner_id, 0), refused=counts[True].get(partner_id, 0)
        )
        for partner_id in set(counts[False]) | set(counts[True])
    }


async def final_totals(session_ids: Sequence[int]) -> dict[int, tuple[int, int, str]]:
    """Each session's total cost (excl. and incl. VAT, currency) as its CDR in force says:
    the latest that is no credit CDR."""
    if not session_ids:
        return {}
    rows = (
        await Cdr.select(
            Cdr.session,
            Cdr.total_cost_excl_vat_minor,
            Cdr.total_cost_incl_vat_minor,
            Cdr.currency,
        )
        .where(Cdr.session.is_in(list(session_ids)) & (Cdr.credit == False))  # noqa: E712
        .order_by(Cdr.id)
    )
    return {
        row["session"]: (
            row["total_cost_excl_vat_minor"],
            row["total_cost_incl_vat_minor"],
            row["currency"],
        )
        for row in rows
    }


async def partner_settlement(
    partner_id: int, created_from: datetime, created_to: datetime
) -> list[SettlementLine]:
    """Per currency, the partner's CDRs made in [created_from, created_to)."""
    rows = await Cdr.raw(
        "SELECT currency, COUNT(*) AS cdrs,"
        " SUM(CASE WHEN credit THEN 1 ELSE 0 END) AS credits,"
        " SUM(CASE WHEN credit THEN -total_energy_wh ELSE total_energy_wh END) AS energy_wh,"
        " SUM(total_cost_excl_vat_minor) AS excl_vat, SUM(total_cost_incl_vat_minor) AS incl_vat"
        " FROM cdr WHERE partner = {} AND created_at >= {} AND created_at < {}"
        " GROUP BY currency ORDER BY currency",
        partner_id,
        created_from,
        created_to,
    )
    return [
        SettlementLine(
            currency=row["currency"],
            cdrs=int(row["cdrs"]),
            credits=int(row["credits"]),
            energy_wh=int(row["energy_wh"]),
            amount_excl_vat_minor=int(row["excl_vat"]),
            amount_incl_vat_minor=int(row["incl_vat"]),
        )
        for row in rows
    ]
