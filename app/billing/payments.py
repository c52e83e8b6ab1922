"""Payments: a card held before an ad hoc start, captured at the CDR's total; refunds; what
Stripe tells us by webhook. Calls to Stripe that must happen go through the outbox."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from app import outbox
from app.auth import service as auth
from app.auth.access import Permission, require
from app.auth.models import Principal
from app.billing import repository
from app.billing.models import CdrView, PaymentView
from app.billing.provider import (
    DISABLED,
    IntentState,
    PaymentDeclined,
    PaymentProvider,
    PaymentsDisabled,
    ProviderUnavailable,
)
from app.errors import InvalidInput, NotFound
from app.healing import service as healing
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

CAPTURE, RELEASE, RELEASE_IF_UNUSED = "payment.capture", "payment.release", "payment.unused"
CHARGE_SAVED = "payment.charge_saved"
# A held amount nobody charged with is given back after this long.
UNUSED_AFTER = timedelta(minutes=15)

# Statuses only move forward, whatever order Stripe's webhooks arrive in.
STATUS_RANK = {
    "authorizing": 0,
    "charging": 0,
    "authorized": 1,
    "declined": 2,
    "captured": 3,
    "released": 3,
    "failed": 3,
}
# A PaymentIntent's status -> ours.
INTENT_STATUSES = {
    "requires_capture": "authorized",
    "succeeded": "captured",
    "canceled": "released",
    "requires_payment_method": "declined",
}


def _key(kind: str, payment_id: int) -> str:
    return f"cpms-{kind}-{payment_id}"


async def authorize_ad_hoc(
    uow: UnitOfWork,
    provider: PaymentProvider,
    organization_id: int,
    user_id: int | None,
    currency: str,
    amount_minor: int,
    payment_method: str,
) -> tuple[PaymentView, str]:
    """Hold `amount_minor` on the card; the payment and the one-off token to start with."""
    if not provider.enabled:
        raise PaymentsDisabled(DISABLED)
    async with uow:
        payment_id = await repository.create_payment(
            organization_id, user_id, currency, "preauth", "authorizing"
        )
    try:
        intent = await provider.authorize(
            amount_minor, currency, payment_method, _key("preauth", payment_id)
        )
    except (PaymentDeclined, ProviderUnavailable) as error:
        async with uow:
            await repository.update_payment(payment_id, {"status": "declined"})
        raise error
    async with uow:
        token_id, uid = await auth.issue_one_off_token(organization_id, user_id)
        await repository.update_payment(
            payment_id,
            {
                "provider_payment_id": intent.id,
                "status": "authorized",
                "authorized_minor": intent.amount_capturable or amount_minor,
                "id_token": token_id,
            },
        )
        # If no session ever starts with the token, the hold is given back.
        await outbox.enqueue(
            organization_id,
            RELEASE_IF_UNUSED,
            {"payment_id": payment_id},
            _key("unused", payment_id),
            not_before=utcnow() + UNUSED_AFTER,
        )
    return await repository.payment_by_id(payment_id), uid


async def release(uow: UnitOfWork, payment: PaymentView) -> None:
    """Give the hold back (the start failed)."""
    async with uow:
        await outbox.enqueue(
            payment.organization_id,
            RELEASE,
            {"payment_id": payment.id},
            _key("release", payment.id),
        )


async def settle_session(
    uow: UnitOfWork, organization_id: int, session_id: int, user_id: int | None, cdr: CdrView
) -> None:
    """A session's CDR is final: capture its total from the hold it started with (never more
    than held; nothing to pay gives the hold back), or charge a registered driver's saved card.
    Call inside `uow`."""
    payment = await repository.preauth_of_session(organization_id, session_id)
    total = cdr.total_cost_incl_vat_minor
    if payment is None:
        if user_id is not None and total > 0:
            await _charge_saved_card(organization_id, session_id, user_id, cdr)
        return
    await repository.update_payment(payment.id, {"session": session_id, "cdr": cdr.id})
    amount = min(total, payment.authorized_minor)
    if amount < total:
        logger.warning(
            "session %s cost %s but only %s was held: the rest is not charged",
            session_id,
            total,
            payment.authorized_minor,
        )
    if amount > 0:
        await outbox.enqueue(
            organization_id,
            CAPTURE,
            {"payment_id": payment.id, "amount_minor": amount},
            _key("capture", payment.id),
        )
    else:
        await outbox.enqueue(
            organization_id, RELEASE, {"payment_id": payment.id}, _key("release", payment.id)
        )


async def _charge_saved_card(
    organization_id: int, session_id: int, user_id: int, cdr: CdrView
) -> None:
    card = await auth.saved_card(user_id)
    if card is None:
        return
    payment_id = await repository.create_payment(
        organization_id, user_id, cdr.currency, "off_session", "charging"
    )
    await repository.update_payment(payment_id, {"session": session_id, "cdr": cdr.id})
    customer, method = card
    await outbox.enqueue(
        organization_id,
        CHARGE_SAVED,
        {
            "payment_id": payment_id,
            "amount_minor": cdr.total_cost_incl_vat_minor,
            "customer": customer,
            "payment_method": method,
        },
        _key("charge", payment_id),
    )


async def save_card(
    uow: UnitOfWork, provider: PaymentProvider, principal: Principal, payment_method: str
) -> None:
    """A driver saves a card: each later session of theirs is charged on it at its end."""
    require(principal, Permission.CHARGE)
    if principal.user_id is None:
        raise InvalidInput("only a signed-in driver can save a card")
    if not provider.enabled:
        raise PaymentsDisabled(DISABLED)
    user = (await auth.users_by_ids(principal, [principal.user_id]))[principal.user_id]
    customer = await provider.save_card(
        user.email, payment_method, f"cpms-card-{user.id}-{payment_method}"
    )
    async with uow:
        await auth.set_saved_card(user.id, customer, payment_method)


def outbox_handlers(uow_factory: Any, provider: PaymentProvider) -> dict[str, outbox.Handler]:
    """What the outbox worker runs for payments."""

    async def settle(
        payload: dict[str, Any],
        expected: str,
        call: Callable[[PaymentView], Awaitable[IntentState | None]],
    ) -> None:
        """One provider call for a payment still in `expected` (a retry after the call went
        through finds it moved on); a provider that is down is tried again later."""
        payment = await repository.payment_by_id(payload["payment_id"])
        if payment.status != expected:
            return
        try:
            intent = await call(payment)
        except ProviderUnavailable as error:
            raise outbox.Retry(error.message) from error
        if intent is not None:
            # Not every Stripe API version reports amount_received: we know the amount.
            received = intent.amount_received or payload.get("amount_minor", 0)
            async with uow_factory() as uow:
                # Locked: a webhook for this payment may be deciding from the same row.
                fresh = await repository.payment_by_id(payment.id, lock=True)
                await _apply_intent(uow, fresh, intent.status, received)

    async def capture(payload: dict[str, Any]) -> None:
        await settle(
            payload,
            "authorized",
            lambda payment: provider.capture(
                payment.provider_payment_id, payload["amount_minor"], _key("capture", payment.id)
            ),
        )

    async def give_back(payload: dict[str, Any]) -> None:
        await settle(
            payload,
            "authorized",
            lambda payment: provider.release(
                payment.provider_payment_id, _key("release", payment.id)
            ),
        )

    async def release_if_unused(payload: dict[str, Any]) -> None:
        async def unless_used(payment: PaymentView) -> IntentState | None:
            if await repository.token_was_used(payment):
                return None
            return await provider.release(payment.provider_payment_id, _key("release", payment.id))

        await settle(payload, "authorized", unless_used)

    async def charge_saved(payload: dict[str, Any]) -> None:
        async def charge(payment: PaymentView) -> IntentState | None:
            try:
                return await provider.charge_saved(
                    payload["amount_minor"],
                    payment.currency,
                    payload["customer"],
                    payload["payment_method"],
                    _key("charge", payment.id),
                )
            except PaymentDeclined:
                async with uow_factory():
                    await repository.update_payment(payment.id, {"status": "declined"})
                return None  # an operator follows up; retrying a declined card does not help

        await settle(payload, "charging", charge)

    return {
        CAPTURE: capture,
        RELEASE: give_back,
        RELEASE_IF_UNUSED: release_if_unused,
        CHARGE_SAVED: charge_saved,
    }


# Where a payment ends: no event moves it anywhere else.
FINAL_STATUSES = frozenset({"captured", "released", "failed"})


async def _apply_intent(
    uow: UnitOfWork, payment: PaymentView, intent_status: str, amount_received: int
) -> None:
    """What the provider reports of a payment (as read inside `uow`). An older report
    arriving late changes nothing; one that contradicts a final status or the authorized
    amount changes nothing either, and raises an alert."""
    status = INTENT_STATUSES.get(intent_status)
    if status is None:
        return
    if payment.status in FINAL_STATUSES:
        received_other = status == "captured" and amount_received not in (0, payment.captured_minor)
        if status != payment.status or received_other:
            await _conflict(
                uow,
                payment,
                f"the provider reports it {intent_status}"
                + (f" with {amount_received}" if status == "captured" else ""),
            )
        return
    if STATUS_RANK[status] < STATUS_RANK.get(payment.status, 0):
        return
    if status == "captured":
        ceiling = await _most_capturable(payment)
        if ceiling is not None and amount_received > ceiling[0]:
            await _conflict(
                uow,
                payment,
                f"the provider reports {amount_received} captured of {ceiling[0]} {ceiling[1]}",
            )
            return
    values: dict[str, Any] = {"status": status}
    if status == "captured" and amount_received > 0:
        values["captured_minor"] = amount_received
    if status == "captured" and payment.receipt_number is None:
        values["receipt_number"] = f"R{payment.id:010d}"
    await repository.update_payment(payment.id, values)
    if status in ("captured", "released"):
        await healing.clear_alert(uow, payment.organization_id, _unsettled_key(payment.id))


async def _most_capturable(payment: PaymentView) -> tuple[int, str] | None:
    """The most a payment may capture, and what sets it: a hold, what it held; a charge on a
    saved card, its session's CDR total (None before it is linked to one)."""
    if payment.kind == "preauth":
        return payment.authorized_minor, "held"
    if payment.cdr_id is None:
        return None
    cdr = await repository.cdr_by_id(payment.cdr_id)
    return cdr.total_cost_incl_vat_minor, "billed"


async def _conflict(uow: UnitOfWork, payment: PaymentView, what: str) -> None:
    logger.warning("payment %s is %s, but %s", payment.id, payment.status, what)
    draft = AlertDraft(
        organization_id=payment.organization_id,
        kind=AlertKind.PAYMENT_CONFLICT,
        severity=AlertSeverity.CRITICAL,
        message=f"Payment {payment.id} is {payment.status}, but {what}: check it at the provider",
        dedupe_key=healing.alert_key(AlertKind.PAYMENT_CONFLICT, payment.id),
        details={"payment_id": payment.id, "status": payment.status, "reported": what},
    )
    await healing.raise_alert(uow, draft)


async def record_webhook(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    """A Stripe event, once. It is stored, applied and marked in one transaction: an event
    whose application fails is not taken for seen, and its redelivery applies it. False for a
    redelivery (concurrent ones included: the unique event id decides)."""
    intent = (event.get("data") or {}).get("object") or {}
    async with uow:
        if not await repository.store_webhook_event("stripe", event["id"], event["type"], event):
            return False
        if event["type"].startswith("payment_intent.") and intent.get("id"):
            payment = await repository.payment_by_provider_id(intent["id"], lock=True)
            if payment is not None:
                received = int(intent.get("amount_received") or 0)
                await _apply_intent(uow, payment, intent.get("status", ""), received)
        await repository.mark_webhook_processed("stripe", event["id"])
    return True


async def refund(
    uow: UnitOfWork,
    provider: PaymentProvider,
    principal: Principal,
    payment_id: int,
    amount_minor: int | None,
    reason: str | None,
) -> PaymentView:
    """Give money back, all that is left or a part (operators)."""
    require(principal, Permission.OPERATE)
    found = await repository.payments_by_ids(principal.organization_id, None, [payment_id])
    if not found:
        raise NotFound(f"no payment {payment_id}")
    payment = found[0]
    refundable = payment.captured_minor - payment.refunded_minor
    amount = refundable if amount_minor is None else amount_minor
    if payment.status != "captured" or refundable <= 0:
        raise InvalidInput("only a captured payment with money left on it can be refunded")
    if not 0 < amount <= refundable:
        raise InvalidInput(f"a refund is between 1 and {refundable} (minor units)")
    async with uow:
        refund_id = await repository.create_refund(
            principal.organization_id, payment, amount, reason, principal.user_id
        )
    try:
        provider_refund = await provider.refund(
            payment.provider_payment_id, amount, _key("refund", refund_id)
        )
    except (PaymentDeclined, ProviderUnavailable):
        async with uow:
            await repository.finish_refund(refund_id, None, "failed", payment.id, 0)
        raise
    async with uow:
        await repository.finish_refund(refund_id, provider_refund, "succeeded", payment.id, amount)
    return await repository.payment_by_id(payment.id)


# A payment still open this long after its session ended needs a person.
SETTLE_WITHIN = timedelta(hours=1)


def _unsettled_key(payment_id: int) -> str:
    return healing.alert_key(AlertKind.PAYMENT_NOT_SETTLED, payment_id)


async def flag_unsettled(uow: UnitOfWork) -> Sequence[PaymentView]:
    """Reconciliation: every payment not settled an hour after its session ended (a capture
    that keeps failing, a declined saved card) has an open alert."""
    found = await repository.unsettled_payments(utcnow() - SETTLE_WITHIN)
    async with uow:
        for payment in found:
            draft = AlertDraft(
                organization_id=payment.organization_id,
                kind=AlertKind.PAYMENT_NOT_SETTLED,
                severity=AlertSeverity.WARNING,
                message=f"Payment {payment.id} is still {payment.status} after its session",
                dedupe_key=_unsettled_key(payment.id),
                details={"payment_id": payment.id, "status": payment.status},
            )
            await healing.raise_alert(uow, draft)
    return found
