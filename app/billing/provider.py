"""The payment provider port, and its Stripe implementation.

Every call carries an idempotency key made from our own row ids, so a retry after a crash or
a timeout is the same call to Stripe, never a second charge."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from app.errors import CPMSError

logger = logging.getLogger(__name__)

UNREACHABLE = "the payment provider cannot be reached: try again later"


class PaymentDeclined(CPMSError):
    code = "payment_declined"


class PaymentsDisabled(CPMSError):
    code = "payments_disabled"


class ProviderUnavailable(CPMSError):
    """The provider failed or could not be reached: worth retrying later."""

    code = "payment_provider_error"


@dataclass(frozen=True, slots=True)
class IntentState:
    """A payment as the provider sees it."""

    id: str
    status: str  # requires_capture | succeeded | canceled | requires_payment_method | ...
    amount_capturable: int
    amount_received: int


class PaymentProvider(Protocol):
    enabled: bool

    async def authorize(
        self, amount_minor: int, currency: str, payment_method: str, key: str
    ) -> IntentState: ...

    async def capture(self, intent_id: str, amount_minor: int, key: str) -> IntentState: ...

    async def release(self, intent_id: str, key: str) -> IntentState: ...

    async def charge_saved(
        self, amount_minor: int, currency: str, customer: str, payment_method: str, key: str
    ) -> IntentState: ...

    async def refund(self, intent_id: str, amount_minor: int, key: str) -> str: ...

    async def save_card(self, email: str, payment_method: str, key: str) -> str: ...

    def webhook_event(self, payload: bytes, signature: str) -> dict[str, Any]: ...


class DisabledProvider:
    """No Stripe key configured: every payment call says so; the rest of the CPMS works."""

    enabled = False

    def _refuse(self) -> PaymentsDisabled:
        return PaymentsDisabled(DISABLED)

    async def authorize(
        self, amount_minor: int, currency: str, payment_method: str, key: str
    ) -> IntentState:
        raise self._refuse()

    async def capture(self, intent_id: str, amount_minor: int, key: str) -> IntentState:
        raise self._refuse()

    async def release(self, intent_id: str, key: str) -> IntentState:
        raise self._refuse()

    async def charge_saved(
        self, amount_minor: int, currency: str, customer: str, payment_method: str, key: str
    ) -> IntentState:
        raise self._refuse()

    async def refund(self, intent_id: str, amount_minor: int, key: str) -> str:
        raise self._refuse()

    async def save_card(self, email: str, payment_method: str, key: str) -> str:
        raise self._refuse()

    def webhook_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        raise self._refuse()


def _state(intent: Any) -> IntentState:
    data = intent.to_dict()
    return IntentState(
        id=data["id"],
        status=data["status"],
        amount_capturable=int(data.get("amount_capturable") or 0),
        amount_received=int(data.get("amount_received") or 0),
    )


class StripeProvider:
    enabled = True

    def __init__(self, secret_key: str, webhook_secret: str | None, api_base: str | None) -> None:
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )
        self._webhook_secret = webhook_secret

    async def _call(self, operation: Any) -> Any:
        try:
            return await operation
        except stripe.CardError as error:
            raise PaymentDeclined(error.user_message or "the card was declined") from error
        except stripe.StripeError as error:
            # Its text can name hosts and network details: logged for us, not shown to drivers.
            logger.warning("Stripe call failed: %s", error)
            shown = None if isinstance(error, stripe.APIConnectionError) else error.user_message
            raise ProviderUnavailable(shown or UNREACHABLE) from error

    async def authorize(
        self, amount_minor: int, currency: str, payment_method: str, key: str
    ) -> IntentState:
        """Hold an amount on a card (manual capture), confirmed at once."""
        intent = await self._call(
            self._client.v1.payment_intents.create_async(
                {
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "payment_method": payment_method,
                    # Cards only: no redirect-based method needs a return URL here. The API
                    # takes it; this SDK's typed parameters no longer list it.
                    "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                    "capture_method": "manual",
                    "confirm": True,
                },
                {"idempotency_key": key},
            )
        )
        state = _state(intent)
        if state.status != "requires_capture":
            raise PaymentDeclined(f"the card could not be authorized ({state.status})")
        return state

    async def capture(self, intent_id: str, amount_minor: int, key: str) -> IntentState:
        """Take part of what was held; Stripe releases the rest."""
        intent = await self._call(
            self._client.v1.payment_intents.capture_async(
                intent_id, {"amount_to_capture": amount_minor}, {"idempotency_key": key}
            )
        )
        return _state(intent)

    async def release(self, intent_id: str, key: str) -> IntentState:
        intent = await self._call(
            self._client.v1.payment_intents.cancel_async(intent_id, {}, {"idempotency_key": key})
        )
        return _state(intent)

    async def charge_saved(
        self, amount_minor: int, currency: str, customer: str, payment_method: str, key: str
    ) -> IntentState:
        """Charge a registered driver's saved card after the session (off session)."""
        intent = await self._call(
            self._client.v1.payment_intents.create_async(
                {
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "customer": customer,
                    "payment_method": payment_method,
                    "confirm": True,
                    "off_session": True,
                },
                {"idempotency_key": key},
            )
        )
        return _state(intent)

    async def refund(self, intent_id: str, amount_minor: int, key: str) -> str:
        refund = await self._call(
            self._client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount_minor}, {"idempotency_key": key}
            )
        )
        return str(refund.id)

    async def save_card(self, email: str, payment_method: str, key: str) -> str:
        """A customer with this card attached, to charge later off session; its id."""
        customer = await self._call(
            self._client.v1.customers.create_async(
                {"email": email, "payment_method": payment_method}, {"idempotency_key": key}
            )
        )
        return str(customer.id)

    def webhook_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event, if the signature is Stripe's for this endpoint's secret."""
        if not self._webhook_secret:
            raise PaymentsDisabled("no webhook signing secret: set CPMS_STRIPE_WEBHOOK_SECRET")
        if _signed_at(signature) > time.time() + SIGNATURE_TOLERANCE_S:
            # Stripe's check refuses old signatures only; a future one would stay replayable.
            raise InvalidSignature("the signature is dated in the future")
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self._webhook_secret, tolerance=SIGNATURE_TOLERANCE_S
            )
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise InvalidSignature("not a valid Stripe signature") from error
        data: dict[str, Any] = event.to_dict()
        if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise InvalidSignature("not a Stripe event: no id or type")
        return data


DISABLED = "payments are disabled: set CPMS_STRIPE_SECRET_KEY"
# How far a webhook signature's time may be from ours, either way (Stripe's default).
SIGNATURE_TOLERANCE_S = 300


def _signed_at(signature: str) -> int:
    """The `t=` of a Stripe-Signature header, 0 if there is none (the check then fails)."""
    for part in signature.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return 0


class InvalidSignature(CPMSError):
    code = "invalid_signature"


def payment_provider(
    secret_key: str | None, webhook_secret: str | None, api_base: str | None
) -> PaymentProvider:
    if not secret_key:
        return DisabledProvider()
    return StripeProvider(secret_key, webhook_secret, api_base)
