"""A site's opening hours and energy mix (AFIR): what drivers, roaming partners and national
access points are told beside where the site is."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import strawberry

from app.stations.grid import LoadBalancing
from app.stations.site_details import EnergySourceCategory, ParkingRestriction, ParkingType

strawberry.enum(EnergySourceCategory, description="OCPI EnergySourceCategory.")
strawberry.enum(
    ParkingRestriction,
    description="Who may park at a site's charging spaces (OCPI ParkingRestriction).",
)
strawberry.enum(ParkingType, description="Where a site's charging spaces are (OCPI ParkingType).")
strawberry.enum(
    LoadBalancing,
    description="How a site's grid capacity is shared among the EVs charging there, once each "
    "has its minimum.",
)


@strawberry.type(description="Open on this weekday between these local times (HH:MM).")
class RegularHours:
    weekday: int = strawberry.field(description="1 Monday … 7 Sunday")
    period_begin: str
    period_end: str


@strawberry.type(description="An exceptional opening or closing, in UTC.")
class ExceptionalPeriod:
    period_begin: datetime
    period_end: datetime


@strawberry.type(description="When a site is open (OCPI Hours); local times, the site's zone.")
class OpeningHours:
    twentyfourseven: bool
    regular_hours: list[RegularHours]
    exceptional_openings: list[ExceptionalPeriod]
    exceptional_closings: list[ExceptionalPeriod]

    @classmethod
    def from_model(cls, hours: dict[str, Any] | None) -> OpeningHours:
        hours = hours or {"twentyfourseven": True}

        def periods(name: str) -> list[ExceptionalPeriod]:
            return [
                ExceptionalPeriod(
                    period_begin=datetime.fromisoformat(
                        each["period_begin"].replace("Z", "+00:00")
                    ),
                    period_end=datetime.fromisoformat(each["period_end"].replace("Z", "+00:00")),
                )
                for each in hours.get(name) or []
            ]

        return cls(
            twentyfourseven=bool(hours.get("twentyfourseven")),
            regular_hours=[RegularHours(**each) for each in hours.get("regular_hours") or []],
            exceptional_openings=periods("exceptional_openings"),
            exceptional_closings=periods("exceptional_closings"),
        )


@strawberry.type(description="One source of the energy a site sells, as a share.")
class EnergySource:
    source: EnergySourceCategory
    percentage: float


@strawberry.type(description="The energy a site sells (OCPI EnergyMix).")
class EnergyMix:
    is_green_energy: bool
    energy_sources: list[EnergySource]
    supplier_name: str | None
    energy_product_name: str | None

    @classmethod
    def from_model(cls, mix: dict[str, Any]) -> EnergyMix:
        return cls(
            is_green_energy=bool(mix.get("is_green_energy")),
            energy_sources=[
                EnergySource(
                    source=EnergySourceCategory(each["source"]), percentage=each["percentage"]
                )
                for each in mix.get("energy_sources") or []
            ],
            supplier_name=mix.get("supplier_name"),
            energy_product_name=mix.get("energy_product_name"),
        )


@strawberry.input
class RegularHoursInput:
    weekday: int = strawberry.field(description="1 Monday … 7 Sunday")
    period_begin: str = strawberry.field(description="HH:MM, local time")
    period_end: str = strawberry.field(description="HH:MM, local time")


@strawberry.input
class PeriodInput:
    period_begin: datetime
    period_end: datetime


@strawberry.input(
    description="When a site is open: 24/7, or regular hours per weekday (at most 50 of each "
    "list); exceptional openings and closings on top."
)
class OpeningHoursInput:
    twentyfourseven: bool
    regular_hours: list[RegularHoursInput] = strawberry.field(default_factory=list)
    exceptional_openings: list[PeriodInput] = strawberry.field(default_factory=list)
    exceptional_closings: list[PeriodInput] = strawberry.field(default_factory=list)


@strawberry.input
class EnergySourceInput:
    source: EnergySourceCategory
    percentage: float


@strawberry.input(description="The energy a site sells; the shares add up to at most 100.")
class EnergyMixInput:
    is_green_energy: bool
    energy_sources: list[EnergySourceInput] = strawberry.field(default_factory=list)
    supplier_name: str | None = None
    energy_product_name: str | None = None


def as_plain(value: Any) -> Any:
    """An input object as the plain dicts and lists the domain checks (snake_case keys)."""
    if isinstance(value, list):
        return [as_plain(each) for each in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an input object
        return {
            field.name: as_plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    return value
