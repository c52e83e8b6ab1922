"""Use cases of the healing domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.errors import NotFound
from app.events import AlertChanged
from app.healing import notifications, repository
from app.healing.models import AlertDraft, AlertFilter, AlertView
from app.pagination import Page, PageRequest
from app.unit_of_work import UnitOfWork


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
    if alert is not None:
        uow.emit(_changed(draft.organization_id, alert))
        await notifications.queue(draft.organization_id, alert)


async def clear_alert(uow: UnitOfWork, organization_id: int, dedupe_key: str) -> None:
    """The condition is gone: its open alert resolves. Call inside `uow`."""
    for alert in await repository.resolve_alerts(organization_id, dedupe_key):
        uow.emit(_changed(organization_id, alert))
        await notifications.queue(organization_id, alert)


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
