"""Use cases of the healing domain."""

from __future__ import annotations

from collections.abc import Sequence

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.healing import repository
from app.healing.models import AlertFilter, AlertView
from app.pagination import Page, PageRequest


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
