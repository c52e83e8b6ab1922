"""Use cases of the healing domain."""

from __future__ import annotations

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.healing import repository


async def open_alerts_by_severity(
    principal: Principal, site_id: int | None = None
) -> dict[str, int]:
    """How many alerts are open, per severity (info, warning, critical)."""
    require(principal, Permission.READ_NETWORK)
    rows = await repository.open_alert_counts(principal.organization_id, site_id)
    return {row["severity"]: int(row["count"]) for row in rows}
