"""Value objects of the smart-charging domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class ChargingProfileKind(StrEnum):
    """OCPP ChargingProfileKindType."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingProfileStatus(StrEnum):
    REQUESTED = "requested"  # sent, not yet accepted
    ACTIVE = "active"
    REPLACED = "replaced"  # a later profile took its place on the station
    CLEARED = "cleared"
    ENDED = "ended"  # a TxProfile whose transaction ended (the station dropped it)


class ChargingProfileSource(StrEnum):
    """Who asked for a profile."""

    OPERATOR = "operator"
    SITE_LIMIT = "site_limit"
    OCPI = "ocpi"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ChargingProfileView:
    """A profile as installed on a station (OCPP 1.6 shape, which 2.0.1 translates from)."""

    id: int
    station_id: int
    evse_id: int  # 0: the whole station
    profile_id: int  # chargingProfileId, as the station knows it
    stack_level: int
    purpose: str  # ChargePointMaxProfile | TxDefaultProfile | TxProfile
    kind: str  # Absolute | Recurring | Relative
    recurrency_kind: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: str | None
    schedule: dict[str, Any]  # chargingSchedule, camelCase as on the wire
    source: str  # operator | site_limit | ocpi | system
    status: str  # active | replaced | cleared
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProfileSelector:
    """Which profiles a ClearChargingProfile removes; every given field must match."""

    profile_id: int | None = None
    evse_id: int | None = None
    purpose: str | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class CompositeScheduleView:
    """The limits in force at an EVSE (0: the whole station) as the station last reported
    them, whoever set them (its own, ours, a local controller)."""

    station_id: int
    evse_id: int
    schedule: dict[str, Any]  # 2.0.1 CompositeScheduleType fields, snake_case
    received_at: datetime


class DemandResponseSource(StrEnum):
    """Who asked a site to draw less."""

    OPERATOR = "operator"  # entered by hand (a grid operator's call, a planned outage)
    OPENADR = "openadr"  # an OpenADR VTN's event


@dataclass(frozen=True, slots=True)
class DemandResponseEventView:
    """A window in which a site draws at most `limit_a` per phase (the lower of it and the
    site's grid capacity applies). A cancelled event ends when it was cancelled."""

    id: int
    site_id: int
    starts_at: datetime
    ends_at: datetime
    limit_a: Decimal
    source: str
    cancelled: bool
    created_at: datetime

    def in_force(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


# The command log's actor for what load balancing sends.
SMART_CHARGING_ACTOR = "smart-charging"


@dataclass(frozen=True, slots=True)
class SiteGrid:
    """A site whose draw is limited: by its grid capacity or a demand response event."""

    site_id: int
    organization_id: int
    grid_capacity_a: int | None
    grid_phases: int
    min_current_a: Decimal
    load_balancing: str
    events: tuple[DemandResponseEventView, ...]  # those in force


@dataclass(frozen=True, slots=True)
class ChargingEvse:
    """An EVSE with a running session at a limited site."""

    site_id: int
    station_id: int
    identity: str
    connected: bool
    evse_id: int
    session_id: int
    transaction_id: str
    started_at: datetime
    max_current_a: Decimal | None  # the connector's, when known

    @property
    def key(self) -> tuple[int, int]:
        return (self.station_id, self.evse_id)

    @property
    def session(self) -> tuple[str, datetime]:
        """The session, as the station knows it (a transaction id alone may come again)."""
        return (self.transaction_id, self.started_at)


@dataclass(frozen=True, slots=True)
class LimitInForce:
    """The load-balancing limit an EVSE accepted for a transaction."""

    transaction_id: str | None
    limit_a: Decimal


@dataclass(frozen=True, slots=True)
class SiteStation:
    """A station at a limited site."""

    site_id: int
    station_id: int
    identity: str
    connected: bool
    evses: int  # how many it has reported (at least 1)
    last_boot_at: datetime | None


@dataclass(frozen=True, slots=True)
class DefaultLimit:
    """The load-balancing TxDefaultProfile a station accepted."""

    limit_a: Decimal
    installed_at: datetime


@dataclass(frozen=True, slots=True)
class HeldLimits:
    """What stations hold: load balancing's limits of sessions, by (station, EVSE), and default
    limits, by station; roaming partners' schedules (camelCase), by (station, transaction)."""

    sessions: dict[tuple[int, int], LimitInForce]
    defaults: dict[int, DefaultLimit]
    partners: dict[tuple[int, str], dict[str, Any]]
