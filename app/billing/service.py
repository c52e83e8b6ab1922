"""Use cases of the billing domain."""

from __future__ import annotations

from datetime import datetime

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.billing import repository
from app.billing.models import Money


async def revenue(
    principal: Principal,
    site_id: int | None = None,
    ended_from: datetime | None = None,
    ended_before: datetime | None = None,
) -> list[Money]:
    """Revenue (incl. VAT) of the charges that ended in a period, one amount per currency."""
    require(principal, Permission.READ_NETWORK)
    rows = await repository.revenue_by_currency(
        principal.organization_id, site_id, ended_from, ended_before
    )
    return sorted(
        (Money(amount_minor=int(row["amount"]), currency=row["currency"]) for row in rows),
        key=lambda money: money.currency,
    )
