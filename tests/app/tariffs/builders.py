"""Short ways to write tariffs and sessions in tests: OCPI-shaped JSON, local wall-clock times
and legs of charging or parking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.tariffs.calculator import price_session
from app.tariffs.models import PriceBreakdown, SessionTimeline, TariffSnapshot, TimelinePoint

BERLIN = "Europe/Berlin"


def component(
    dimension: str, price: str, vat: str | None = None, step_size: int = 1
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": dimension, "price": price, "step_size": step_size}
    if vat is not None:
        data["vat"] = vat
    return data


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"price_components": list(components)}
    if restrictions:
        data["restrictions"] = restrictions
    return data


def tariff(*elements: dict[str, Any], currency: str = "EUR", **extra: Any) -> TariffSnapshot:
    return TariffSnapshot.from_ocpi({"currency": currency, "elements": list(elements), **extra})


def local(text: str, zone: str = BERLIN) -> datetime:
    """A wall-clock time at the site, e.g. "2024-06-03 09:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


@dataclass(frozen=True)
class Leg:
    """A stretch of a session: so many minutes, so much energy spread evenly over them."""

    minutes: float
    energy_wh: int | Decimal = 0
    charging: bool = True
    power_w: int | None = None
    current_a: int | None = None


def charge(minutes: float, energy_wh: int | Decimal = 0, **state: Any) -> Leg:
    return Leg(minutes, energy_wh, True, **state)


def park(minutes: float) -> Leg:
    return Leg(minutes, 0, False)


def timeline(start: datetime, *legs: Leg) -> SessionTimeline:
    """A session made of legs, one meter reading where each leg starts and one at the end."""
    points = []
    # In UTC: adding to a local time would step the wall clock, not real time.
    moment, energy = start.astimezone(UTC), Decimal(0)
    for leg in legs:
        points.append(TimelinePoint(moment, energy, leg.power_w, leg.current_a, leg.charging))
        moment += timedelta(minutes=leg.minutes)
        energy += leg.energy_wh
    last = legs[-1] if legs else Leg(0)
    points.append(TimelinePoint(moment, energy, last.power_w, last.current_a, last.charging))
    return SessionTimeline(start, moment, tuple(points))


def price(snapshot: TariffSnapshot, session: SessionTimeline, zone: str = BERLIN) -> PriceBreakdown:
    return price_session(snapshot, session, zone)


def totals(breakdown: PriceBreakdown) -> tuple[int, int]:
    """The total excl. and incl. VAT, in minor units."""
    return breakdown.total_cost.excl_vat, breakdown.total_cost.incl_vat
