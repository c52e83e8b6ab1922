"""Use cases of the billing domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.auth import service as auth
from app.auth.access import Permission, require, visible_owner
from app.auth.models import Principal
from app.billing import cdrs, payments, repository
from app.billing.models import CdrView, Money, PartnerDeliveries, PaymentView, SettlementLine
from app.billing.receipts import ReceiptData, render_receipt
from app.errors import InvalidInput, NotFound
from app.pagination import Page, PageRequest
from app.sessions.models import BillableSession
from app.tariffs.models import Cost
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork


async def revenue(
    principal: Principal,
    site_id: int | None = None,
    ended_from: datetime | None = None,
    ended_before: datetime | None = None,
) -> list[Money]:
    """Revenue (incl. VAT) of the charges that ended in a period, one amount per currency."""
    require(principal, Permission.READ_NETWORK)
    rows = await repository.revenue_by_currency(
        principal.organization_id, site_id, ended_from, ended_before
    )
    return sorted(
        (Money(amount_minor=int(row["amount"]), currency=row["currency"]) for row in rows),
        key=lambda money: money.currency,
    )


# Charge records: staff read the organization's, a driver only those of their own charging.


async def page_cdrs(
    principal: Principal, session_id: int | None, request: PageRequest
) -> Page[CdrView]:
    return await repository.page_cdrs(
        principal.organization_id, visible_owner(principal), session_id, request
    )


async def cdrs_by_ids(principal: Principal, cdr_ids: Sequence[int]) -> dict[int, CdrView]:
    found = await repository.cdrs_by_ids(
        principal.organization_id, visible_owner(principal), cdr_ids
    )
    return {cdr.id: cdr for cdr in found}


async def cdrs_of_sessions(
    principal: Principal, session_ids: Sequence[int]
) -> dict[int, list[CdrView]]:
    """Each session's CDRs: its own, and credit and replacement CDRs after a correction."""
    grouped: dict[int, list[CdrView]] = {}
    for cdr in await repository.cdrs_by_session_ids(
        principal.organization_id, visible_owner(principal), session_ids
    ):
        if cdr.session_id is not None:
            grouped.setdefault(cdr.session_id, []).append(cdr)
    return grouped


async def page_payments(
    principal: Principal, status: str | None, request: PageRequest
) -> Page[PaymentView]:
    return await repository.page_payments(
        principal.organization_id, visible_owner(principal), status, request
    )


async def payments_by_ids(
    principal: Principal, payment_ids: Sequence[int]
) -> dict[int, PaymentView]:
    found = await repository.payments_by_ids(
        principal.organization_id, visible_owner(principal), payment_ids
    )
    return {payment.id: payment for payment in found}


async def issue_cdr(uow: UnitOfWork, session: BillableSession) -> CdrView | None:
    """Price a complete session and keep its CDR, final at once. A session has one CDR: a
    second call (a resent stop, a late message) finds it and returns None."""
    breakdown = cdrs.price(session)
    values = cdrs.cdr_values(session, breakdown)
    values["finalized_at"] = utcnow()
    async with uow:
        cdr_id = await repository.insert_cdr(session.organization_id, values)
        if cdr_id is None:
            return None
        cdr = await repository.cdr_by_id(cdr_id)
        # The capture is queued with the CDR: both are kept, or neither.
        await payments.settle_session(
            uow, session.organization_id, session.session_id, session.user_id, cdr
        )
    return cdr


async def receipt(principal: Principal, payment_id: int) -> str | None:
    """The receipt of a captured payment for a session, as HTML; None before the capture."""
    found = await repository.payments_by_ids(
        principal.organization_id, visible_owner(principal), [payment_id]
    )
    if not found:
        return None
    payment = found[0]
    if payment.status != "captured" or payment.cdr_id is None or not payment.receipt_number:
        return None
    cdr = await repository.cdr_by_id(payment.cdr_id)
    location = cdr.location or {}
    return render_receipt(
        ReceiptData(
            operator=(await auth.organization(principal)).name,
            receipt_number=payment.receipt_number,
            location=location,
            time_zone=location.get("time_zone") or "UTC",
            started_at=cdr.started_at,
            ended_at=cdr.ended_at,
            energy_wh=cdr.total_energy_wh,
            currency=cdr.currency,
            cost_breakdown=cdr.cost_breakdown,
            total_excl_vat_minor=cdr.total_cost_excl_vat_minor,
            total_incl_vat_minor=cdr.total_cost_incl_vat_minor,
            payment_method=f"Card ({payment.provider} {payment.provider_payment_id})",
            captured_minor=payment.captured_minor,
            refunded_minor=payment.refunded_minor,
        )
    )


async def correct_cdr(uow: UnitOfWork, original: CdrView, session: BillableSession) -> CdrView:
    """A final CDR is never changed: it is credited (a copy whose totals are negative, OCPI's
    credit CDR) and a new CDR replaces it, both in one transaction."""
    if original.credit:
        raise InvalidInput("a credit CDR cannot be corrected")
    values = cdrs.cdr_values(session, cdrs.price(session))
    async with uow:
        if await repository.is_credited(original.id):
            raise InvalidInput(f"CDR {original.code} was corrected already")
        corrections = await repository.credit(original)
        values["code"] = f"{cdrs.cdr_code(session.session_id)}-R{corrections}"
        values["finalized_at"] = utcnow()
        cdr_id = await repository.insert_cdr(session.organization_id, values)
        assert cdr_id is not None
        return await repository.cdr_by_id(cdr_id)


# A roaming partner's CDRs (the roaming domain sends them and serves them to the partner).


async def undelivered_partner_cdrs(partner_id: int, limit: int) -> list[CdrView]:
    """The CDRs of the partner's tokens it has not accepted yet, oldest first."""
    return await repository.undelivered_cdrs(partner_id, limit)


async def partner_cdr_delivered(cdr_id: int) -> None:
    await repository.mark_delivered(cdr_id, utcnow())


async def partner_cdr_refused(cdr_id: int, reason: str) -> None:
    """The partner refused the CDR: it is not sent again; its partner shows it."""
    await repository.mark_refused(cdr_id, reason)


async def resend_to_partner(uow: UnitOfWork, principal: Principal, cdr_id: int) -> CdrView:
    """Send a CDR the roaming partner refused once more (admin), e.g. once the partner has
    fixed what made it refuse: it goes with the partner's next push round."""
    require(principal, Permission.MANAGE)
    async with uow:
        found = await repository.cdrs_by_ids(principal.organization_id, None, [cdr_id])
        if not found:
            raise NotFound(f"no CDR {cdr_id}")
        cdr = found[0]
        if cdr.partner_id is None:
            raise InvalidInput("the CDR is not of a roaming partner's token")
        if cdr.partner_delivered_at is not None:
            raise InvalidInput("the partner accepted the CDR already")
        if cdr.partner_refusal is None:
            raise InvalidInput("the partner has not refused the CDR: it is sent when it answers")
        await repository.clear_refusal(cdr_id)
    return await repository.cdr_by_id(cdr_id)


async def partner_cdrs(
    partner_id: int,
    created_from: datetime | None,
    created_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[CdrView], int]:
    """A page of the CDRs of the partner's tokens, oldest first, optionally only those
    created in [created_from, created_to); and how many such there are."""
    return await repository.partner_cdrs(partner_id, created_from, created_to, offset, limit)


async def partner_deliveries(partner_ids: Sequence[int]) -> dict[int, PartnerDeliveries]:
    found = await repository.partner_deliveries(partner_ids)
    return {each: found.get(each, PartnerDeliveries(0, 0)) for each in partner_ids}


async def final_totals(session_ids: Sequence[int]) -> dict[int, tuple[Cost, str]]:
    """Each billed session's total cost as its CDR in force says, with its currency."""
    return {
        session_id: (Cost(excl_vat=excl, incl_vat=incl), currency)
        for session_id, (excl, incl, currency) in (
            await repository.final_totals(session_ids)
        ).items()
    }


async def partner_settlement(
    partner_id: int, created_from: datetime, created_to: datetime
) -> list[SettlementLine]:
    """Per currency, what the partner's CDRs made in [created_from, created_to) come to."""
    return await repository.partner_settlement(partner_id, created_from, created_to)
