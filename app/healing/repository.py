"""Every query of the healing domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.healing.models import (
    AlertDraft,
    AlertFilter,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    AlertView,
    MaintenanceView,
)
from app.healing.uptime import Interval, StatusReport
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from db.paging import page_by_id
from db.tables import (
    Alert,
    ChargingSession,
    ChargingStation,
    Connector,
    MaintenanceWindow,
    StatusChange,
)


async def open_alert_counts(organization_id: int, site_id: int | None) -> list[dict[str, Any]]:
    """Open alerts per severity."""
    join, site_clause, arguments = "", "", [organization_id]
    if site_id is not None:
        join = " JOIN charging_station st ON st.id = a.station"
        site_clause = " AND st.site = {}"
        arguments.append(site_id)
    return list(
        await Alert.raw(
            "SELECT a.severity AS severity, COUNT(*) AS count FROM alert a"  # noqa: S608
            + join
            + " WHERE a.organization = {} AND a.status = 'open'"
            + site_clause
            + " GROUP BY a.severity",
            *arguments,
        )
    )


def _alert(row: dict[str, Any]) -> AlertView:
    details = row["details"]
    actions = row.get("actions")
    return AlertView(
        actions=json.loads(actions) if isinstance(actions, str) else list(actions or []),
        id=row["id"],
        station_id=row["station"],
        kind=AlertKind(row["kind"]),
        severity=AlertSeverity(row["severity"]),
        status=AlertStatus(row["status"]),
        message=row["message"],
        details=json.loads(details) if isinstance(details, str) else dict(details or {}),
        opened_at=row["opened_at"],
        resolved_at=row["resolved_at"],
    )


_ALERT_COLUMNS = (
    Alert.id,
    Alert.station,
    Alert.kind,
    Alert.severity,
    Alert.status,
    Alert.message,
    Alert.details,
    Alert.opened_at,
    Alert.resolved_at,
    Alert.actions,
)


async def page_alerts(
    organization_id: int, filters: AlertFilter, request: PageRequest
) -> Page[AlertView]:
    """Alerts, newest first."""
    query = Alert.select(*_ALERT_COLUMNS).where(Alert.organization == organization_id)
    for column, value in (
        (Alert.status, filters.status),
        (Alert.severity, filters.severity),
        (Alert.station, filters.station_id),
        (Alert.kind, filters.kind),
        (Alert.station.site, filters.site_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return await page_by_id(query, Alert.id, request, _alert, newest_first=True)


async def alerts_by_ids(organization_id: int, alert_ids: Sequence[int]) -> list[AlertView]:
    rows = await Alert.select(*_ALERT_COLUMNS).where(
        (Alert.organization == organization_id) & Alert.id.is_in(list(alert_ids))
    )
    return [_alert(row) for row in rows]


async def open_alert(draft: AlertDraft) -> AlertView | None:
    """Insert the alert unless one with its key is open already (then None)."""
    if await Alert.exists().where(
        (Alert.organization == draft.organization_id)
        & (Alert.dedupe_key == draft.dedupe_key)
        & (Alert.status == "open")
    ):
        return None
    alert = Alert(
        organization=draft.organization_id,
        station=draft.station_id,
        kind=draft.kind,
        severity=draft.severity,
        message=draft.message,
        dedupe_key=draft.dedupe_key,
        details=draft.details or {},
    )
    await alert.save()
    return (await alerts_by_ids(draft.organization_id, [int(alert.id)]))[0]


async def resolve_alerts(
    organization_id: int, dedupe_key: str | None, alert_id: int | None = None
) -> list[AlertView]:
    """Resolve the open alert with this key (or id); the alerts it resolved."""
    where = (Alert.organization == organization_id) & (Alert.status == "open")
    if dedupe_key is not None:
        where = where & (Alert.dedupe_key == dedupe_key)
    if alert_id is not None:
        where = where & (Alert.id == alert_id)
    resolved = (
        await Alert.update({Alert.status: "resolved", Alert.resolved_at: utcnow()})
        .where(where)
        .returning(*_ALERT_COLUMNS)
    )
    return [_alert(row) for row in resolved]


async def status_history(connector_id: int, since: datetime) -> list[StatusReport]:
    """A connector's statuses from `since`, with the last one before it (its state then)."""
    before = (
        await StatusChange.select(StatusChange.occurred_at, StatusChange.status)
        .where((StatusChange.connector == connector_id) & (StatusChange.occurred_at < since))
        .order_by(StatusChange.occurred_at, ascending=False)
        .first()
    )
    rows = await StatusChange.select(StatusChange.occurred_at, StatusChange.status).where(
        (StatusChange.connector == connector_id) & (StatusChange.occurred_at >= since)
    )
    return [
        StatusReport(at=row["occurred_at"], status=row["status"])
        for row in ([before] if before else []) + list(rows)
    ]


async def offline_periods(station_id: int, since: datetime, until: datetime) -> list[Interval]:
    """When the station was disconnected, from its connection history."""
    statuses = ("Connected", "Disconnected")
    before = (
        await StatusChange.select(StatusChange.occurred_at, StatusChange.status)
        .where(
            (StatusChange.station == station_id)
            & StatusChange.connector.is_null()
            & StatusChange.status.is_in(list(statuses))
            & (StatusChange.occurred_at < since)
        )
        .order_by(StatusChange.occurred_at, ascending=False)
        .first()
    )
    rows = (
        await StatusChange.select(StatusChange.occurred_at, StatusChange.status)
        .where(
            (StatusChange.station == station_id)
            & StatusChange.connector.is_null()
            & StatusChange.status.is_in(list(statuses))
            & (StatusChange.occurred_at >= since)
        )
        .order_by(StatusChange.occurred_at)
    )
    periods: list[Interval] = []
    went_offline: datetime | None = None
    if before is not None and before["status"] == "Disconnected":
        went_offline = since
    for row in rows:
        if row["status"] == "Disconnected" and went_offline is None:
            went_offline = row["occurred_at"]
        elif row["status"] == "Connected" and went_offline is not None:
            periods.append(Interval(went_offline, row["occurred_at"]))
            went_offline = None
    if went_offline is not None and went_offline < until:
        periods.append(Interval(went_offline, until))
    return periods


async def maintenance_windows(
    organization_id: int, station_id: int, connector_id: int | None
) -> list[MaintenanceView]:
    """The station's windows, and the connector's own."""
    query = MaintenanceWindow.select(*_WINDOW_COLUMNS).where(
        (MaintenanceWindow.organization == organization_id)
        & (MaintenanceWindow.station == station_id)
    )
    if connector_id is not None:
        query = query.where(
            MaintenanceWindow.connector.is_null() | (MaintenanceWindow.connector == connector_id)
        )
    rows = await query.order_by(MaintenanceWindow.starts_at)
    return [_window(row) for row in rows]


_WINDOW_COLUMNS = (
    MaintenanceWindow.id,
    MaintenanceWindow.station,
    MaintenanceWindow.connector,
    MaintenanceWindow.starts_at,
    MaintenanceWindow.ends_at,
    MaintenanceWindow.reason,
)


def _window(row: dict[str, Any]) -> MaintenanceView:
    return MaintenanceView(
        id=row["id"],
        station_id=row["station"],
        connector_id=row["connector"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        reason=row["reason"],
    )


async def add_maintenance(
    organization_id: int,
    station_id: int,
    connector_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None,
    user_id: int | None,
) -> MaintenanceView | None:
    """None if the station (or the connector on it) is not the organization's."""
    if not await ChargingStation.exists().where(
        (ChargingStation.id == station_id) & (ChargingStation.organization == organization_id)
    ):
        return None
    if connector_id is not None and not await Connector.exists().where(
        (Connector.id == connector_id) & (Connector.station == station_id)
    ):
        return None
    window = MaintenanceWindow(
        organization=organization_id,
        station=station_id,
        connector=connector_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason[:255] if reason else None,
        created_by=user_id,
    )
    await window.save()
    row = (
        await MaintenanceWindow.select(*_WINDOW_COLUMNS)
        .where(MaintenanceWindow.id == window.id)
        .first()
    )
    assert row is not None
    return _window(row)


async def remove_maintenance(organization_id: int, window_id: int) -> bool:
    deleted = (
        await MaintenanceWindow.delete()
        .where(
            (MaintenanceWindow.organization == organization_id)
            & (MaintenanceWindow.id == window_id)
        )
        .returning(MaintenanceWindow.id)
    )
    return bool(deleted)


async def station_connected(station_id: int) -> bool:
    row = (
        await ChargingStation.select(ChargingStation.connected)
        .where(ChargingStation.id == station_id)
        .first()
    )
    return bool(row and row["connected"])


async def open_alert_by_key(organization_id: int, dedupe_key: str) -> AlertView | None:
    row = (
        await Alert.select(*_ALERT_COLUMNS)
        .where(
            (Alert.organization == organization_id)
            & (Alert.dedupe_key == dedupe_key)
            & (Alert.status == "open")
        )
        .first()
    )
    return _alert(row) if row else None


async def record_action(alert_id: int, action: dict[str, Any]) -> None:
    """Append what was done about an alert (a remote reset and its outcome, ...)."""
    row = await Alert.select(Alert.actions).where(Alert.id == alert_id).first()
    if row is None:
        return
    actions = row["actions"]
    done = json.loads(actions) if isinstance(actions, str) else list(actions or [])
    await Alert.update({Alert.actions: [*done, action]}).where(Alert.id == alert_id)


async def escalate(alert_id: int, severity: str, message: str) -> None:
    await Alert.update({Alert.severity: severity, Alert.message: message}).where(
        Alert.id == alert_id
    )


async def open_alert_keys(station_id: int) -> list[str]:
    """Dedupe keys of the station's open alerts."""
    rows = await Alert.select(Alert.dedupe_key).where(
        (Alert.station == station_id) & (Alert.status == "open")
    )
    return [row["dedupe_key"] for row in rows]


async def session_running(station_id: int) -> bool:
    return await ChargingSession.exists().where(
        (ChargingSession.station == station_id) & (ChargingSession.state == "active")
    )


async def session_is_active(session_id: int) -> bool:
    return await ChargingSession.exists().where(
        (ChargingSession.id == session_id) & (ChargingSession.state == "active")
    )


async def session_energy(session_id: int) -> int | None:
    row = (
        await ChargingSession.select(ChargingSession.energy_wh)
        .where(ChargingSession.id == session_id)
        .first()
    )
    return int(row["energy_wh"]) if row else None
