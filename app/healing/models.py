"""Value objects of the healing domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AlertView:
    """Something an operator must know about, open until its condition clears."""

    id: int
    station_id: int | None
    kind: str
    severity: str  # info | warning | critical
    status: str  # open | resolved
    message: str
    details: dict[str, Any]
    opened_at: datetime
    resolved_at: datetime | None
    actions: list[dict[str, Any]] = field(default_factory=list)  # what was done about it


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: str | None = None
    severity: str | None = None
    station_id: int | None = None
    site_id: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """A condition to alert on; `dedupe_key` names it, so it is open at most once."""

    organization_id: int
    kind: str
    severity: str
    message: str
    dedupe_key: str
    station_id: int | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    """Planned downtime: outage inside it does not count against uptime."""

    id: int
    station_id: int
    connector_id: int | None  # None: the whole station
    starts_at: datetime
    ends_at: datetime
    reason: str | None
