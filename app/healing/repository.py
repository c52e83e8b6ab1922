"""Every query of the healing domain."""

from __future__ import annotations

from typing import Any

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
