"""Every query of the healing domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.healing.models import AlertFilter, AlertView
from app.pagination import Page, PageRequest
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
