"""Value objects of the sessions domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.auth.models import TokenVerdict


class SessionLifecycle(StrEnum):
    """Where a session is in its life: the `state` of a session."""

    ACTIVE = "active"
    COMPLETED = "completed"
    ORPHAN = "orphan"  # a stop for a transaction we never saw start; reconciled later


ACTIVE, COMPLETED, ORPHAN = SessionLifecycle


@dataclass(slots=True)
class SessionState:
    id: int
    organization_id: int
    station_id: int
    evse_id: int | None  # the station's EVSE number
    connector_id: int | None  # the connector number within the EVSE
    transaction_id: str
    state: str
    started_at: datetime
    meter_start_wh: int | None
    energy_wh: int
    seq_nos_seen: list[int] = field(default_factory=list)
    id_tag: str | None = None  # the id token the session is for, once known


@dataclass(frozen=True, slots=True)
class TransactionAnswer:
    """What a 2.0.1 TransactionEvent is answered with: the token's verdict, and the cost so
    far (Updated) or the final cost (Ended), incl. VAT in major units, when a tariff applies."""

    verdict: TokenVerdict | None = None
    total_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction_id: int
    verdict: TokenVerdict


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the API shows it."""

    id: int
    organization_id: int
    station_id: int
    connector_row: int | None
    evse_id: int | None
    connector_id: int | None
    transaction_id: str
    id_token_id: int | None
    id_tag: str | None
    user_id: int | None
    state: str
    charging_state: str | None
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int
    power_w: int | None
    cost_minor: int | None
    currency: str | None
    stop_reason: str | None
    offline: bool
    station_connected: bool = True


class SessionOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, slots=True)
class SessionFilter:
    state: SessionLifecycle | None = None
    station_id: int | None = None
    user_id: int | None = None
    id_tag: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeterPoint:
    """One point of a session's chart: energy so far and power, at a time."""

    at: datetime
    energy_wh: int | None
    power_w: int | None


@dataclass(frozen=True, slots=True)
class SessionTotals:
    active: int  # running now
    sessions: int  # started in the period
    energy_wh: int  # charged by the sessions started in the period


@dataclass(frozen=True, slots=True)
class BillableSession:
    """Everything a CDR is made of: the session's facts, its timeline and its tariff."""

    session_id: int
    organization_id: int
    user_id: int | None  # a registered driver, charged on their saved card if they have one
    started_at: datetime
    ended_at: datetime
    energy_wh: int  # charged in the session, from the start and stop registers
    points: tuple[tuple[datetime, int | None, int | None], ...]  # (at, Wh so far, W)
    tariff_snapshot: dict[str, Any] | None  # None: no tariff applied, the charge is free
    currency: str
    time_zone: str
    token: dict[str, Any] | None  # OCPI CdrToken: uid, type, contract_id
    location: dict[str, Any]  # station identity, EVSE and connector, the site's address
    signed_data: list[dict[str, Any]]  # signed meter values, byte-exact as the station sent
    partner_id: int | None = None  # the roaming partner whose token charged


@dataclass(frozen=True, slots=True)
class PartnerSession:
    """A session of a roaming partner's token, as the partner is told about it."""

    id: int
    organization_id: int
    state: str  # SessionLifecycle
    started_at: datetime
    ended_at: datetime | None
    energy_wh: int
    updated_at: datetime
    pushed_at: datetime | None  # the updated_at the partner's copy has; None: not sent yet
    currency: str
    billed: bool  # billing priced it (its CDR is issued)
    token: dict[str, Any] | None  # as a CDR names it (see BillableSession.token)
    site_id: int | None
    evse_row_id: int | None
    connector_id: int | None  # its number within the EVSE

    @property
    def final(self) -> bool:
        """Nothing more to tell: completed and priced (billing kept its cost), or orphaned."""
        if self.state == COMPLETED:
            return self.billed
        return self.state != ACTIVE
