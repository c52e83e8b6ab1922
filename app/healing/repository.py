"""Every query of the healing domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.healing.models import AlertDraft, AlertFilter, AlertView
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from db.paging import page_by_id
from db.tables import Alert


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
    return AlertView(
        id=row["id"],
        station_id=row["station"],
        kind=row["kind"],
        severity=row["severity"],
        status=row["status"],
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
