"""What a site may draw at a given moment: its grid capacity, lowered by the demand response
events in force. Pure logic: no I/O and no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from app.smart_charging.models import DemandResponseEventView


def capacity_at(
    grid_capacity_a: int | None, events: Iterable[DemandResponseEventView], at: datetime
) -> Decimal | None:
    """Amperes per phase the site may draw at `at`: the lowest of its grid capacity and the
    limits of the events in force then; None when nothing limits it."""
    limits = [event.limit_a for event in events if event.in_force(at)]
    if grid_capacity_a is not None:
        limits.append(Decimal(grid_capacity_a))
    return min(limits, default=None)
