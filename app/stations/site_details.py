"""What drivers and national access points must know about a site beside where it is (AFIR):
its opening hours, the energy it sells and who may park there. Kept in the OCPI shapes
(Hours, EnergyMix, ParkingRestriction), which is what roaming partners and access points are
sent; checked here, without I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.errors import InvalidInput

MAX_PERIODS = 50  # regular hours, exceptional openings and closings: each at most this many
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class EnergySourceCategory(StrEnum):
    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class ParkingRestriction(StrEnum):
    """Who may park at a site's charging spaces (OCPI ParkingRestriction)."""

    EV_ONLY = "EV_ONLY"  # electric vehicles only
    PLUGGED = "PLUGGED"  # only while charging
    DISABLED = "DISABLED"  # drivers with a disability
    CUSTOMERS = "CUSTOMERS"  # customers of the place
    MOTORCYCLES = "MOTORCYCLES"  # electric motorcycles and scooters


class ParkingType(StrEnum):
    """Where a site's charging spaces are (OCPI ParkingType)."""

    ALONG_MOTORWAY = "ALONG_MOTORWAY"  # a service area along a motorway or similar road
    PARKING_GARAGE = "PARKING_GARAGE"  # a multistorey car park
    PARKING_LOT = "PARKING_LOT"  # an open car park
    ON_DRIVEWAY = "ON_DRIVEWAY"  # a driveway (a private one, usually)
    ON_STREET = "ON_STREET"  # a public street
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


def checked_parking_type(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return ParkingType(value).value
    except ValueError:
        raise InvalidInput(f"parkingType: one of {', '.join(ParkingType)}") from None


def checked_parking_restrictions(value: list[str] | None) -> list[str] | None:
    """Each restriction once, in the order given; None (or none): anyone may park."""
    try:
        restrictions = [ParkingRestriction(each).value for each in value or []]
    except ValueError:
        allowed = ", ".join(ParkingRestriction)
        raise InvalidInput(f"parkingRestrictions: each one of {allowed}") from None
    return list(dict.fromkeys(restrictions)) or None


def _utc(moment: datetime) -> str:
    """A DateTime as OCPI writes it: UTC with `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _periods(value: Any, name: str) -> list[dict[str, str]]:
    periods = list(value or [])
    if len(periods) > MAX_PERIODS:
        raise InvalidInput(f"{name}: at most {MAX_PERIODS}")
    checked = []
    for period in periods:
        begin, end = period.get("period_begin"), period.get("period_end")
        if not isinstance(begin, datetime) or not isinstance(end, datetime):
            raise InvalidInput(f"{name}: periodBegin and periodEnd are dates and times")
        if begin.tzinfo is None or end.tzinfo is None or end <= begin:
            raise InvalidInput(f"{name}: a period ends after it begins, both with a time zone")
        checked.append({"period_begin": _utc(begin), "period_end": _utc(end)})
    return checked


def checked_opening_hours(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """OCPI Hours; None: always open."""
    if value is None:
        return None
    always = bool(value.get("twentyfourseven"))
    regular = list(value.get("regular_hours") or [])
    if always and regular:
        raise InvalidInput("openingHours.regularHours: only when twentyfourseven is false")
    if not always and not regular:
        raise InvalidInput("openingHours.regularHours: at least one when not open 24/7")
    if len(regular) > MAX_PERIODS:
        raise InvalidInput(f"openingHours.regularHours: at most {MAX_PERIODS}")
    hours = []
    for entry in regular:
        weekday, begin, end = (
            entry.get("weekday"),
            entry.get("period_begin"),
            entry.get("period_end"),
        )
        if not isinstance(weekday, int) or not 1 <= weekday <= 7:
            raise InvalidInput("openingHours.regularHours.weekday: 1 (Monday) to 7 (Sunday)")
        if not (isinstance(begin, str) and _CLOCK.match(begin)) or not (
            isinstance(end, str) and _CLOCK.match(end)
        ):
            raise InvalidInput("openingHours.regularHours: periodBegin and periodEnd as HH:MM")
        hours.append({"weekday": weekday, "period_begin": begin, "period_end": end})
    return {
        "twentyfourseven": always,
        "regular_hours": hours,
        "exceptional_openings": _periods(
            value.get("exceptional_openings"), "openingHours.exceptionalOpenings"
        ),
        "exceptional_closings": _periods(
            value.get("exceptional_closings"), "openingHours.exceptionalClosings"
        ),
    }


def checked_energy_mix(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """OCPI EnergyMix; None: not known."""
    if value is None:
        return None
    sources = list(value.get("energy_sources") or [])
    if len(sources) > len(EnergySourceCategory):
        raise InvalidInput("energyMix.energySources: one per source at most")
    checked: list[dict[str, Any]] = []
    for source in sources:
        category = EnergySourceCategory(source.get("source"))
        percentage = float(source.get("percentage"))
        if not 0 <= percentage <= 100:
            raise InvalidInput("energyMix.energySources.percentage: 0 to 100")
        checked.append({"source": category.value, "percentage": percentage})
    if len({each["source"] for each in checked}) != len(checked):
        raise InvalidInput("energyMix.energySources: each source once")
    if sum(each["percentage"] for each in checked) > 100.0001:
        raise InvalidInput("energyMix.energySources: the percentages add up to at most 100")
    mix: dict[str, Any] = {
        "is_green_energy": bool(value.get("is_green_energy")),
        "energy_sources": checked,
    }
    for name in ("supplier_name", "energy_product_name"):
        text = value.get(name)
        if text is not None:
            text = str(text).strip()
            if not 1 <= len(text) <= 64:
                camel = "supplierName" if name == "supplier_name" else "energyProductName"
                raise InvalidInput(f"energyMix.{camel}: 1 to 64 characters")
            mix[name] = text
    return mix
