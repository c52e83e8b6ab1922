"""GraphQL types of billing: charge detail records and payments. Amounts are integer minor
units (cents) of `currency`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.billing import ad_hoc, payments, session_billing
from app.billing import service as billing
from app.billing.models import CdrView, PaymentView
from app.errors import CPMSError
from schema.context import Context
from schema.enums import PaymentKind, PaymentStatus
from schema.ids import local_id, nodes_by_id
from schema.problems import (
    BusUnavailableError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    PaymentDeclinedError,
    PaymentProviderError,
    PaymentsDisabledError,
    RejectedByStationError,
    StationCallError,
    StationNotReadyError,
    StationOfflineError,
    TimedOutError,
    problem,
)

if TYPE_CHECKING:
    from schema.auth_types import User
    from schema.session_types import ChargingSession


async def _session(
    info: Info[Context, None], session_id: int | None
) -> Annotated[ChargingSession, strawberry.lazy("schema.session_types")] | None:
    from schema.session_types import ChargingSession

    if session_id is None:
        return None
    found = await info.context.loaders.session.load(session_id)
    return ChargingSession.from_model(found) if found else None


@strawberry.type(description="A charge detail record: final once `finalizedAt` is set.")
class Cdr(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="The OCPI CDR id")
    currency: str
    started_at: datetime
    ended_at: datetime
    total_energy_wh: int
    total_time_s: int
    total_parking_time_s: int
    total_cost_excl_vat_minor: int
    total_cost_incl_vat_minor: int
    cost_breakdown: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="Energy, time, parking and fixed cost, excl./incl. VAT."
    )
    charging_periods: list[Any] = strawberry.field(graphql_type=JSON)
    tariff_snapshot: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None, description="The tariff the session was priced with."
    )
    credit: bool = strawberry.field(description="Cancels `creditReference` (a correction).")
    finalized_at: datetime | None
    created_at: datetime
    partner_delivered_at: datetime | None = strawberry.field(
        description="A CDR of a roaming partner's token: when the partner accepted it"
    )
    partner_refusal: str | None = strawberry.field(
        description="A CDR of a roaming partner's token: why the partner refused it (or why "
        "OCPI cannot express it); it is not sent again until resendCdrToPartner"
    )
    session_id: strawberry.Private[int | None]
    credit_reference_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, model: CdrView) -> Cdr:
        return cls(
            id=model.id,
            code=model.code,
            currency=model.currency,
            started_at=model.started_at,
            ended_at=model.ended_at,
            total_energy_wh=model.total_energy_wh,
            total_time_s=model.total_time_s,
            total_parking_time_s=model.total_parking_time_s,
            total_cost_excl_vat_minor=model.total_cost_excl_vat_minor,
            total_cost_incl_vat_minor=model.total_cost_incl_vat_minor,
            cost_breakdown=model.cost_breakdown,
            charging_periods=model.charging_periods,
            tariff_snapshot=model.tariff_snapshot,
            credit=model.credit,
            finalized_at=model.finalized_at,
            created_at=model.created_at,
            partner_delivered_at=model.partner_delivered_at,
            partner_refusal=model.partner_refusal,
            session_id=model.session_id,
            credit_reference_id=model.credit_reference_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Cdr | None]:
        return await nodes_by_id(
            node_ids, partial(billing.cdrs_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def session(
        self, info: Info[Context, None]
    ) -> Annotated[ChargingSession, strawberry.lazy("schema.session_types")] | None:
        return await _session(info, self.session_id)

    @strawberry.field(description="The CDR this credit CDR cancels.")
    async def credit_reference(self, info: Info[Context, None]) -> Cdr | None:
        return await _cdr(info, self.credit_reference_id)


async def _cdr(info: Info[Context, None], cdr_id: int | None) -> Cdr | None:
    if cdr_id is None:
        return None
    found = await info.context.loaders.cdr.load(cdr_id)
    return Cdr.from_model(found) if found else None


@strawberry.type(description="Money through the payment provider for a session.")
class Payment(relay.Node):
    id: relay.NodeID[int]
    provider: str
    provider_payment_id: str = strawberry.field(description="e.g. Stripe's PaymentIntent id")
    kind: PaymentKind
    status: PaymentStatus
    currency: str
    authorized_minor: int
    captured_minor: int
    refunded_minor: int
    receipt_number: str | None
    created_at: datetime
    updated_at: datetime
    session_id: strawberry.Private[int | None]
    cdr_id: strawberry.Private[int | None]
    user_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, model: PaymentView) -> Payment:
        return cls(
            id=model.id,
            provider=model.provider,
            provider_payment_id=model.provider_payment_id,
            kind=PaymentKind(model.kind),
            status=PaymentStatus(model.status),
            currency=model.currency,
            authorized_minor=model.authorized_minor,
            captured_minor=model.captured_minor,
            refunded_minor=model.refunded_minor,
            receipt_number=model.receipt_number,
            created_at=model.created_at,
            updated_at=model.updated_at,
            session_id=model.session_id,
            cdr_id=model.cdr_id,
            user_id=model.user_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Payment | None]:
        return await nodes_by_id(
            node_ids, partial(billing.payments_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def session(
        self, info: Info[Context, None]
    ) -> Annotated[ChargingSession, strawberry.lazy("schema.session_types")] | None:
        return await _session(info, self.session_id)

    @strawberry.field
    async def cdr(self, info: Info[Context, None]) -> Cdr | None:
        return await _cdr(info, self.cdr_id)

    @strawberry.field(
        description="The receipt as an HTML page, once the payment is captured: operator, "
        "place, time, energy, each price part with VAT, the total and how it was paid."
    )
    async def receipt_html(self, info: Info[Context, None]) -> str | None:
        return await billing.receipt(info.context.principal, int(self.id))

    @strawberry.field(description="The driver who paid, if registered.")
    async def user(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.auth_types")] | None:
        from schema.auth_types import User

        if self.user_id is None:
            return None
        user = await info.context.loaders.user.load(self.user_id)
        return User.from_model(user) if user else None


@strawberry.type(description="The card is held and the station was told to start.")
class AdHocStarted:
    payment: Payment


@strawberry.type
class PaymentSaved:
    payment: Payment


AdHocResult = Annotated[
    AdHocStarted
    | PaymentDeclinedError
    | PaymentsDisabledError
    | PaymentProviderError
    | RejectedByStationError
    | StationOfflineError
    | StationNotReadyError
    | BusUnavailableError
    | TimedOutError
    | StationCallError
    | NotAuthenticatedError
    | NotPermittedError
    | NotFoundError,
    strawberry.union("AdHocResult"),
]
RefundResult = Annotated[
    PaymentSaved
    | PaymentDeclinedError
    | PaymentsDisabledError
    | PaymentProviderError
    | NotAuthenticatedError
    | NotPermittedError
    | NotFoundError
    | InvalidInputError,
    strawberry.union("RefundResult"),
]


@strawberry.type(description="The card is saved; later sessions are charged on it.")
class CardSaved:
    saved: bool


SaveCardResult = Annotated[
    CardSaved
    | PaymentDeclinedError
    | PaymentsDisabledError
    | PaymentProviderError
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError,
    strawberry.union("SaveCardResult"),
]


@strawberry.type
class CdrCorrected:
    cdr: Cdr = strawberry.field(description="The new CDR; the old one has its credit CDR.")


CorrectCdrResult = Annotated[
    CdrCorrected | NotAuthenticatedError | NotPermittedError | NotFoundError | InvalidInputError,
    strawberry.union("CorrectCdrResult"),
]


@strawberry.type
class CdrResent:
    cdr: Cdr = strawberry.field(description="The CDR, no longer refused: it goes out again.")


ResendCdrResult = Annotated[
    CdrResent | NotAuthenticatedError | NotPermittedError | NotFoundError | InvalidInputError,
    strawberry.union("ResendCdrResult"),
]


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        description="Price a session again with another tariff (admin): its CDR stays as it "
        "was and is credited (a credit CDR with negative totals), and a new CDR is issued."
    )
    async def correct_cdr(
        self, info: Info[Context, None], cdr_id: relay.GlobalID, tariff_id: relay.GlobalID
    ) -> CorrectCdrResult:
        context = info.context
        try:
            cdr = await session_billing.correct_charge(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(cdr_id, "Cdr") or 0,
                local_id(tariff_id, "Tariff") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return CdrCorrected(cdr=Cdr.from_model(cdr))

    @strawberry.mutation(
        description="Send a CDR the roaming partner refused once more (admin), once what made "
        "it refuse is fixed: it goes with the partner's next push round (within a second)."
    )
    async def resend_cdr_to_partner(
        self, info: Info[Context, None], cdr_id: relay.GlobalID
    ) -> ResendCdrResult:
        context = info.context
        try:
            cdr = await billing.resend_to_partner(
                context.runtime.unit_of_work(), context.principal, local_id(cdr_id, "Cdr") or 0
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return CdrResent(cdr=Cdr.from_model(cdr))

    @strawberry.mutation(
        description="A signed-in driver saves a card (a Stripe PaymentMethod id): each of their "
        "sessions is then charged on it, off session, once its CDR is issued."
    )
    async def save_payment_method(
        self, info: Info[Context, None], payment_method_id: str
    ) -> SaveCardResult:
        context = info.context
        try:
            await payments.save_card(
                context.runtime.unit_of_work(),
                context.runtime.payments,
                context.principal,
                payment_method_id,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return CardSaved(saved=True)

    @strawberry.mutation(
        description="Ad hoc charging with a card (a Stripe PaymentMethod id from Stripe.js): "
        "the CPMS holds CPMS_PREAUTH_AMOUNT_MINOR, starts the connector, captures the "
        "session's total at its end and releases the rest; a start that fails releases it all."
    )
    async def start_ad_hoc_charging(
        self, info: Info[Context, None], connector_id: relay.GlobalID, payment_method_id: str
    ) -> AdHocResult:
        context = info.context
        runtime = context.runtime
        try:
            payment = await ad_hoc.start_ad_hoc(
                context.gateway,
                runtime.unit_of_work,
                runtime.payments,
                context.principal,
                local_id(connector_id, "Connector") or 0,
                payment_method_id,
                runtime.settings.preauth_amount_minor,
            )
        except ad_hoc.StartRefused as refused:
            return RejectedByStationError(
                code=refused.code, message=refused.message, station_status=refused.station_status
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return AdHocStarted(payment=Payment.from_model(payment))

    @strawberry.mutation(
        description="Refund a captured payment, all that is left or `amountMinor` (operators)."
    )
    async def refund_payment(
        self,
        info: Info[Context, None],
        payment_id: relay.GlobalID,
        amount_minor: int | None = None,
        reason: str | None = None,
    ) -> RefundResult:
        context = info.context
        try:
            payment = await payments.refund(
                context.runtime.unit_of_work(),
                context.runtime.payments,
                context.principal,
                local_id(payment_id, "Payment") or 0,
                amount_minor,
                reason,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return PaymentSaved(payment=Payment.from_model(payment))
