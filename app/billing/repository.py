"""Every query of the billing domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.tables import Cdr


async def revenue_by_currency(
    organization_id: int,
    site_id: int | None,
    ended_from: datetime | None,
    ended_before: datetime | None,
) -> list[dict[str, Any]]:
    """Charged amounts incl. VAT of the CDRs that ended in the period, per currency."""
    clauses: list[str] = ["c.organization = {}"]
    arguments: list[Any] = [organization_id]
    join = ""
    if site_id is not None:
        join = (
            " JOIN charging_session cs ON cs.id = c.session"
            " JOIN charging_station st ON st.id = cs.station"
        )
        clauses.append("st.site = {}")
        arguments.append(site_id)
    if ended_from is not None:
        clauses.append("c.ended_at >= {}")
        arguments.append(ended_from)
    if ended_before is not None:
        clauses.append("c.ended_at < {}")
        arguments.append(ended_before)
    return list(
        await Cdr.raw(
            "SELECT c.currency AS currency, "  # noqa: S608
            "COALESCE(SUM(c.total_cost_incl_vat_minor), 0) AS amount "
            f"FROM cdr c{join} WHERE " + " AND ".join(clauses) + " GROUP BY c.currency",
            *arguments,
        )
    )
