"""Value objects of the sessions domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.auth.models import TokenVerdict

ACTIVE = "active"
COMPLETED = "completed"
ORPHAN = "orphan"  # a stop for a transaction we never saw start; reconciled later


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


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction_id: int
    verdict: TokenVerdict
