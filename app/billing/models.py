"""Value objects of the billing domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class PaymentKind(StrEnum):
    PREAUTH = "preauth"  # an ad hoc card hold, captured at the session's end
    OFF_SESSION = "off_session"  # a saved card charged after the session


class PaymentStatus(StrEnum):
    """Only moves forward, whatever order the provider's webhooks arrive in."""

    CREATED = "created"
    AUTHORIZING = "authorizing"
    CHARGING = "charging"
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    CAPTURED = "captured"
    RELEASED = "released"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: integer minor units (cents) with its currency."""

    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class CdrView:
    """A charge detail record: what a session consumed and cost, final once finalized."""

    id: int
    session_id: int | None
    code: str  # OCPI CDR id
    currency: str
    started_at: datetime
    ended_at: datetime
    total_energy_wh: int
    total_time_s: int
    total_parking_time_s: int
    total_cost_excl_vat_minor: int
    total_cost_incl_vat_minor: int
    cost_breakdown: dict[str, Any]
    charging_periods: list[Any]
    tariff_snapshot: dict[str, Any] | None
    location: dict[str, Any] | None
    credit: bool
    credit_reference_id: int | None
    finalized_at: datetime | None
    created_at: datetime
    token: dict[str, Any] | None = None  # OCPI CdrToken, and how the session was authorized
    signed_data: dict[str, Any] | None = None  # the station's signed meter values
    partner_id: int | None = None  # the roaming partner whose token charged
    credit_reference_code: str | None = None  # a credit CDR: the code of the CDR it credits
    partner_delivered_at: datetime | None = None  # when that partner accepted it
    partner_refusal: str | None = None  # why that partner refused it (not sent again)


@dataclass(frozen=True, slots=True)
class PartnerDeliveries:
    """Where the CDRs of one roaming partner's tokens stand."""

    pending: int  # not yet accepted by the partner
    refused: int  # the partner refused them; they are not sent again


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """What a roaming partner owes for the CDRs issued in a period, in one currency. A credit
    CDR counts with its negative amounts and takes its energy back."""

    currency: str
    cdrs: int  # credit CDRs included
    credits: int
    energy_wh: int
    amount_excl_vat_minor: int
    amount_incl_vat_minor: int


@dataclass(frozen=True, slots=True)
class PaymentView:
    """Money through a provider: a pre-authorization and its capture, or an off-session charge."""

    id: int
    organization_id: int
    session_id: int | None
    cdr_id: int | None
    user_id: int | None
    id_token_id: int | None
    provider: str
    provider_payment_id: str
    kind: str  # preauth | off_session
    status: str
    currency: str
    authorized_minor: int
    captured_minor: int
    refunded_minor: int
    receipt_number: str | None
    created_at: datetime
    updated_at: datetime
