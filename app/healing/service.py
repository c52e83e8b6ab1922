"""Use cases of the healing domain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app import outbox
from app.auth import service as auth
from app.auth.access import Permission, require
from app.auth.models import Principal
from app.errors import InvalidInput, NotFound
from app.events import AlertChanged
from app.healing import notifications, repository
from app.healing.models import (
    AlertDraft,
    AlertFilter,
    AlertKind,
    AlertSeverity,
    AlertView,
    MaintenanceView,
)
from app.healing.rules import FaultClass, HealingPolicy, classify_fault
from app.healing.uptime import (
    NEVI_YEAR,
    Availability,
    DayAvailability,
    Interval,
    StatusReport,
    daily_availability,
    port_availability,
    rolling_twelve_months,
    site_availability,
)
from app.outbound import OutboundPolicy
from app.pagination import Page, PageRequest
from app.stations.models import ConnectorView
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


async def open_alerts_by_severity(
    principal: Principal, site_id: int | None = None
) -> dict[str, int]:
    """How many alerts are open, per severity (info, warning, critical)."""
    require(principal, Permission.READ_NETWORK)
    rows = await repository.open_alert_counts(principal.organization_id, site_id)
    return {row["severity"]: int(row["count"]) for row in rows}


async def page_alerts(
    principal: Principal, filters: AlertFilter | None, request: PageRequest
) -> Page[AlertView]:
    """The organization's alerts, newest first."""
    require(principal, Permission.READ_NETWORK)
    return await repository.page_alerts(
        principal.organization_id, filters or AlertFilter(), request
    )


async def alerts_by_ids(principal: Principal, alert_ids: Sequence[int]) -> dict[int, AlertView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.alerts_by_ids(principal.organization_id, alert_ids)
    return {alert.id: alert for alert in found}


def _changed(organization_id: int, alert: AlertView) -> AlertChanged:
    return AlertChanged(
        organization_id=organization_id,
        alert_id=alert.id,
        station_id=alert.station_id,
        alert_kind=alert.kind,
        severity=alert.severity,
        status=alert.status,
        message=alert.message,
        details=alert.details,
        opened_at=alert.opened_at,
        resolved_at=alert.resolved_at,
    )


async def raise_alert(uow: UnitOfWork, draft: AlertDraft) -> None:
    """Open an alert, unless the same condition is open already. Call inside `uow`."""
    alert = await repository.open_alert(draft)
    if draft.station_id is not None:
        _OPEN_STATION_ALERTS.add(draft.dedupe_key)
    if alert is not None:
        uow.emit(_changed(draft.organization_id, alert))
        await notifications.queue(draft.organization_id, alert)


async def clear_alert(uow: UnitOfWork, organization_id: int, dedupe_key: str) -> None:
    """The condition is gone: its open alert resolves. Call inside `uow`."""
    for alert in await repository.resolve_alerts(organization_id, dedupe_key):
        uow.emit(_changed(organization_id, alert))
        await notifications.queue(organization_id, alert)


async def clear_station_alert(uow: UnitOfWork, organization_id: int, dedupe_key: str) -> None:
    """`clear_alert` for a condition of a station connected to this node, which learnt the
    station's open alerts when it connected: most of the time there is none, and no query."""
    if dedupe_key in _OPEN_STATION_ALERTS:
        _OPEN_STATION_ALERTS.discard(dedupe_key)
        await clear_alert(uow, organization_id, dedupe_key)


async def resolve_alert(uow: UnitOfWork, principal: Principal, alert_id: int) -> AlertView:
    """An operator closes an alert by hand (e.g. a security event that was looked into)."""
    require(principal, Permission.OPERATE)
    async with uow:
        resolved = await repository.resolve_alerts(principal.organization_id, None, alert_id)
        for alert in resolved:
            uow.emit(_changed(principal.organization_id, alert))
            await notifications.queue(principal.organization_id, alert)
    found = await repository.alerts_by_ids(principal.organization_id, [alert_id])
    if not found:
        raise NotFound(f"no alert {alert_id}")
    return found[0]


def alert_key(kind: str, *parts: Any) -> str:
    """The dedupe key of a condition, e.g. `station_pending:42`."""
    return ":".join([kind, *(str(part) for part in parts)])


@dataclass(frozen=True, slots=True)
class UptimeReport:
    """Availability per day in the site's time zone, over the days asked for, and over the
    rolling 12 months (NEVI)."""

    days: list[DayAvailability]
    period: Availability
    last_12_months: Availability


MAX_REPORT_DAYS = 400


async def _port_inputs(
    principal: Principal, connector: ConnectorView, since: datetime, until: datetime
) -> tuple[list[StatusReport], list[Interval], list[Interval]]:
    history = await repository.status_history(connector.id, since)
    offline = await repository.offline_periods(connector.station_id, since, until)
    windows = await repository.maintenance_windows(
        principal.organization_id, connector.station_id, connector.id
    )
    excluded = [Interval(w.starts_at, w.ends_at) for w in windows]
    return history, offline, excluded


def _days_checked(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise InvalidInput("the last day is before the first")
    if (last_day - first_day).days >= MAX_REPORT_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_REPORT_DAYS} days")


async def uptime_of_connectors(
    principal: Principal,
    connectors: Sequence[ConnectorView],
    time_zone: str,
    first_day: date,
    last_day: date,
) -> UptimeReport:
    """One port's report, or a site's (its ports' times summed)."""
    require(principal, Permission.READ_NETWORK)
    _days_checked(first_day, last_day)
    now = utcnow()
    zone = ZoneInfo(time_zone)
    since = min(
        datetime.combine(first_day, time(), zone).astimezone(UTC), now - NEVI_YEAR
    ) - timedelta(days=1)
    per_day: dict[date, list[Availability]] = {}
    periods: list[Availability] = []
    years: list[Availability] = []
    for connector in connectors:
        history, offline, excluded = await _port_inputs(principal, connector, since, now)
        days = daily_availability(history, offline, excluded, first_day, last_day, time_zone)
        for day in days:
            per_day.setdefault(day.day, []).append(day.availability)
        periods.append(
            port_availability(
                history, offline, excluded, days[0].availability.start, days[-1].availability.end
            )
        )
        years.append(rolling_twelve_months(history, offline, excluded, now))
    if not connectors:
        raise NotFound("no connectors to report on")
    return UptimeReport(
        days=[
            DayAvailability(day, site_availability(ports)) for day, ports in sorted(per_day.items())
        ],
        period=site_availability(periods),
        last_12_months=site_availability(years),
    )


async def schedule_maintenance(
    uow: UnitOfWork,
    principal: Principal,
    station_id: int,
    connector_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None,
) -> MaintenanceView:
    """Planned downtime of a station or one connector (operators): outage then is excluded."""
    require(principal, Permission.OPERATE)
    if ends_at <= starts_at:
        raise InvalidInput("a maintenance window ends after it starts")
    async with uow:
        window = await repository.add_maintenance(
            principal.organization_id,
            station_id,
            connector_id,
            starts_at,
            ends_at,
            reason,
            principal.user_id,
        )
    if window is None:
        raise NotFound("no such station or connector")
    return window


async def cancel_maintenance(uow: UnitOfWork, principal: Principal, window_id: int) -> None:
    require(principal, Permission.OPERATE)
    async with uow:
        if not await repository.remove_maintenance(principal.organization_id, window_id):
            raise NotFound(f"no maintenance window {window_id}")


async def maintenance_of_station(principal: Principal, station_id: int) -> list[MaintenanceView]:
    require(principal, Permission.READ_NETWORK)
    return await repository.maintenance_windows(principal.organization_id, station_id, None)


OFFLINE_CHECK = "healing.offline_check"


async def policy_of(organization_id: int) -> HealingPolicy:
    """The organization's healing rules and thresholds (its settings over the defaults)."""
    settings = await auth.organization_settings(organization_id)
    try:
        return HealingPolicy.from_settings(settings.get("healing"))
    except ValueError:
        logger.exception("organization %s has invalid healing settings", organization_id)
        return HealingPolicy()


@dataclass(frozen=True)
class OfflineStation:
    organization_id: int
    station_id: int
    identity: str


async def watch_offline(
    uow: UnitOfWork, organization_id: int, station_id: int, identity: str
) -> None:
    """A station went offline: if it is still offline after the organization's delay, an
    alert opens. Call inside `uow`."""
    await watch_offline_many(uow, [OfflineStation(organization_id, station_id, identity)])


async def watch_offline_many(uow: UnitOfWork, stations: Sequence[OfflineStation]) -> None:
    """`watch_offline` for many stations at once, in a few statements. Call inside `uow`."""
    delays: dict[int, timedelta] = {}
    for organization_id in {station.organization_id for station in stations}:
        delays[organization_id] = (await policy_of(organization_id)).offline_alert_after
    now = utcnow()
    await outbox.enqueue_many(
        [
            outbox.Message(
                station.organization_id,
                OFFLINE_CHECK,
                {
                    "organization_id": station.organization_id,
                    "station_id": station.station_id,
                    "identity": station.identity,
                },
                f"offline-check:{station.station_id}:{now.isoformat()}",
                not_before=now + delays[station.organization_id],
            )
            for station in stations
        ]
    )


async def back_online(uow: UnitOfWork, organization_id: int, station_id: int) -> None:
    """The station connected: its offline alert, if any, resolves. Call inside `uow`, after
    `remember_open_alerts`."""
    await clear_station_alert(
        uow, organization_id, alert_key(AlertKind.STATION_OFFLINE, station_id)
    )


def outbox_handlers(
    unit_of_work: Callable[[], UnitOfWork], outbound: OutboundPolicy
) -> dict[str, outbox.Handler]:
    async def offline_check(payload: dict[str, Any]) -> None:
        station_id = payload["station_id"]
        if await repository.station_connected(station_id):
            return  # back already
        async with unit_of_work() as uow:
            await raise_alert(
                uow,
                AlertDraft(
                    organization_id=payload["organization_id"],
                    kind=AlertKind.STATION_OFFLINE,
                    severity=AlertSeverity.WARNING,
                    message=f"Station {payload['identity']} is offline",
                    dedupe_key=alert_key(AlertKind.STATION_OFFLINE, station_id),
                    station_id=station_id,
                ),
            )

    return {OFFLINE_CHECK: offline_check, notifications.NOTIFY: notifications.deliverer(outbound)}


# Connector faults ------------------------------------------------------------------------

RECOVER = "healing.recover"
# Keys of the alerts about stations connected here that may be open (loaded when a station
# connects, added when one opens): a status, boot or reconnect resolves one only if it is
# here, so the hot paths cost a set lookup otherwise.
_OPEN_STATION_ALERTS: set[str] = set()


class ConnectorReport(Protocol):
    """What a connector said: a stored status (ConnectorStatusChanged) or a problem reported
    otherwise (a NotifyEvent), in the same fields."""

    @property
    def evse_id(self) -> int: ...
    @property
    def connector_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def vendor_error_code(self) -> str | None: ...
    @property
    def info(self) -> str | None: ...


def fault_key(station_id: int, evse_id: int, connector_id: int) -> str:
    return alert_key(AlertKind.CONNECTOR_FAULTED, station_id, evse_id, connector_id)


def has_open_fault_alert(station_id: int, evse_id: int, connector_id: int) -> bool:
    """Whether this node knows an open fault alert of the connector (a set lookup)."""
    return fault_key(station_id, evse_id, connector_id) in _OPEN_STATION_ALERTS


async def remember_open_alerts(station_id: int) -> None:
    """A station connected here: learn its open alerts (opened on another node, or before a
    restart), so that what ends them here resolves them."""
    _OPEN_STATION_ALERTS.update(await repository.open_alert_keys(station_id))


async def on_connector_status(
    uow: UnitOfWork,
    organization_id: int,
    station_id: int,
    identity: str,
    report: ConnectorReport,
) -> None:
    """A connector's status: a fault opens an alert and, when a remote action may clear it,
    starts the recovery; any other status resolves the connector's open fault alert."""
    key = fault_key(station_id, report.evse_id, report.connector_id)
    if report.status != "Faulted":
        if key in _OPEN_STATION_ALERTS:
            async with uow:
                await clear_station_alert(uow, organization_id, key)
        return
    policy = await policy_of(organization_id)
    fault = classify_fault(report.error_code, report.vendor_error_code, report.info, policy=policy)
    if fault is FaultClass.NONE:
        return
    _OPEN_STATION_ALERTS.add(key)
    safety = fault is FaultClass.SAFETY
    code = report.error_code or "unknown error"
    async with uow:
        await raise_alert(
            uow,
            AlertDraft(
                organization_id=organization_id,
                kind=AlertKind.CONNECTOR_FAULTED,
                severity=AlertSeverity.CRITICAL if safety else AlertSeverity.WARNING,
                message=(
                    f"{identity} connector {report.evse_id}/{report.connector_id}: {code}"
                    + (" (safety fault: no remote action)" if safety else "")
                ),
                dedupe_key=key,
                station_id=station_id,
                details={
                    "error_code": report.error_code,
                    "vendor_error_code": report.vendor_error_code,
                    "info": report.info,
                    "fault_class": fault.value,
                    "evse_id": report.evse_id,
                    "connector_id": report.connector_id,
                },
            ),
        )
        if fault is FaultClass.RECOVERABLE and policy.auto_recovery:
            await outbox.enqueue(
                organization_id,
                RECOVER,
                {
                    "organization_id": organization_id,
                    "station_id": station_id,
                    "identity": identity,
                    "evse_id": report.evse_id,
                    "connector_id": report.connector_id,
                    "error_code": report.error_code,
                    "vendor_error_code": report.vendor_error_code,
                    "info": report.info,
                    "fault_seen_at": utcnow().isoformat(),
                },
                f"{key}:{utcnow().isoformat()}",
            )


async def update_policy(
    uow: UnitOfWork, principal: Principal, settings: dict[str, Any]
) -> HealingPolicy:
    """Set the organization's healing rules and thresholds (admin); checked in full first."""
    require(principal, Permission.MANAGE)
    try:
        policy = HealingPolicy.from_settings(settings)
    except ValueError as error:
        raise InvalidInput(str(error)) from error
    async with uow:
        await auth.put_setting(uow, principal.organization_id, "healing", settings)
    return policy


async def healing_settings(principal: Principal) -> dict[str, Any]:
    """What the organization set (the rest are defaults)."""
    require(principal, Permission.READ_NETWORK)
    settings = await auth.organization_settings(principal.organization_id)
    return dict(settings.get("healing") or {})
