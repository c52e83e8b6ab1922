"""Value objects of the healing domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    """What an alert is about."""

    CONNECTOR_FAULTED = "connector_faulted"
    STATION_OFFLINE = "station_offline"
    STATION_PENDING = "station_pending"
    BOOT_REJECTED = "boot_rejected"
    GHOST_SESSION = "ghost_session"
    STUCK_SESSION = "stuck_session"
    INCOMPLETE_SESSION = "incomplete_session"
    SECURITY_EVENT = "security_event"
    FIRMWARE_FAILED = "firmware_failed"
    COMMAND_FAILURES = "command_failures"
    PAYMENT_NOT_SETTLED = "payment_not_settled"
    PAYMENT_CONFLICT = "payment_conflict"  # the provider reported what cannot be
    PARTNER_UNREACHABLE = "partner_unreachable"  # pushes to a roaming partner fail for long


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertView:
    """Something an operator must know about, open until its condition clears."""

    id: int
    station_id: int | None
    kind: AlertKind
    severity: AlertSeverity
    status: AlertStatus
    message: str
    details: dict[str, Any]
    opened_at: datetime
    resolved_at: datetime | None
    actions: list[dict[str, Any]] = field(default_factory=list)  # what was done about it


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: AlertStatus | None = None
    severity: AlertSeverity | None = None
    station_id: int | None = None
    site_id: int | None = None
    kind: AlertKind | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """A condition to alert on; `dedupe_key` names it, so it is open at most once."""

    organization_id: int
    kind: AlertKind
    severity: AlertSeverity
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
