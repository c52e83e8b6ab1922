"""A site's grid connection as its operator describes it: the current it may draw per phase,
how many phases it has, the least current an EV may be offered, and how what there is gets
shared. Checked here, without I/O; smart charging shares it out."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from app.errors import InvalidInput

# Not what roaming partners see of a site: changing them is not a change of its Location.
GRID_FIELDS = frozenset({"grid_capacity_a", "grid_phases", "min_current_a", "load_balancing"})
MAX_GRID_CAPACITY_A = 100_000  # per phase; far above any grid connection a site has
GRID_PHASES = (1, 3)
DEFAULT_GRID_PHASES = 3
# IEC 61851-1: an EV is not offered less than 6 A (the lowest PWM duty cycle that allows
# charging); 80 A is the most its control pilot can offer.
MIN_CURRENT_RANGE_A = (Decimal(6), Decimal(80))
DEFAULT_MIN_CURRENT_A = Decimal(6)
TENTH_A = Decimal("0.1")  # the precision of OCPP limits


class LoadBalancing(StrEnum):
    """How a site shares what is left once every EV charging there has its minimum."""

    EQUAL = "EQUAL"  # the same for everyone, whatever their priority
    PRIORITY = "PRIORITY"  # higher priorities first, equal shares within a priority


def checked_grid_connection(values: dict[str, Any]) -> dict[str, Any]:
    """The grid connection fields among a site's values, checked; the others as given."""
    checked = dict(values)
    if "grid_capacity_a" in checked:
        checked["grid_capacity_a"] = _capacity(checked["grid_capacity_a"])
    if "grid_phases" in checked and checked["grid_phases"] not in GRID_PHASES:
        raise InvalidInput("gridPhases: 1 or 3")
    if "min_current_a" in checked:
        checked["min_current_a"] = _min_current(checked["min_current_a"])
    if "load_balancing" in checked:
        try:
            checked["load_balancing"] = LoadBalancing(checked["load_balancing"]).value
        except ValueError:
            raise InvalidInput(f"loadBalancing: one of {', '.join(LoadBalancing)}") from None
    return checked


def _capacity(value: Any) -> int | None:
    """None: the site's draw is not limited here."""
    if value is None:
        return None
    if not isinstance(value, int) or not 0 <= value <= MAX_GRID_CAPACITY_A:
        raise InvalidInput(f"gridCapacityA: amperes per phase, 0 to {MAX_GRID_CAPACITY_A}")
    return value


def _min_current(value: Any) -> Decimal:
    return checked_amperes(value, "minCurrentA", *MIN_CURRENT_RANGE_A)


def checked_amperes(value: Any, name: str, low: Decimal, high: Decimal) -> Decimal:
    """A current in amperes between `low` and `high`, to a tenth (as OCPP limits)."""
    try:
        current = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        current = None
    if (
        current is None
        or not current.is_finite()
        or not low <= current <= high
        or current != current.quantize(TENTH_A)
    ):
        raise InvalidInput(f"{name}: {low} to {high} A, to a tenth of an ampere")
    return current.quantize(TENTH_A)
