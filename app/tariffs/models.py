"""Value objects of the tariffs domain.

A `TariffSnapshot` is the OCPI 2.2.1 tariff a session is priced with: prices per unit excluding
VAT as `Decimal` major units, restriction times and dates in the site's local time. It reads and
writes the stored JSON form (elements of price components and restrictions), where decimals are
strings so that a round trip is exact; an OCPI adapter turns them into JSON numbers.

A `SessionTimeline` is what gets priced, a `PriceBreakdown` is the result, in integer minor
units of the currency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class TariffType(StrEnum):
    """OCPI 2.2.1 TariffType: which drivers a tariff is for."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class Dimension(StrEnum):
    """What a price component is paid for (OCPI TariffDimensionType)."""

    ENERGY = "ENERGY"  # price per kWh, step_size in Wh
    TIME = "TIME"  # price per hour while charging, step_size in seconds
    PARKING_TIME = "PARKING_TIME"  # price per hour while not charging, step_size in seconds
    FLAT = "FLAT"  # price once per session


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @classmethod
    def of(cls, day: date) -> DayOfWeek:
        """The day of the week of a (local) date."""
        return _WEEK[day.weekday()]


_WEEK = tuple(DayOfWeek)


class ReservationRestriction(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class PriceLimit(StrEnum):
    """Which of the tariff's limits decided a session's total."""

    MINIMUM = "minimum"
    MAXIMUM = "maximum"


# ISO 4217 currencies whose minor unit is not a hundredth; every other code has two decimals.
# fmt: off
_MINOR_UNIT_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
# fmt: on


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit: 0 for JPY, 3 for KWD, 2 unless listed."""
    return _MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """An amount in minor units as an exact Decimal in major units (1050 EUR cents: 10.50)."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DAY = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


def _decimal(value: object, name: str) -> Decimal:
    # JSON numbers arrive as float: through str() they keep the digits that were written.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"{name} must be a number, got {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _optional_decimal(data: Mapping[str, Any], name: str) -> Decimal | None:
    value = data.get(name)
    return None if value is None else _decimal(value, name)


def _optional_int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return value


def _optional_clock(data: Mapping[str, Any], name: str) -> time | None:
    value = data.get(name)
    if value is None:
        return None
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{name} must be HH:MM, got {value!r}")
    return time(int(match[1]), int(match[2]))


def _optional_day(data: Mapping[str, Any], name: str) -> date | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or _DAY.fullmatch(value) is None:
        raise ValueError(f"{name} must be YYYY-MM-DD, got {value!r}")
    return date.fromisoformat(value)


def _list(data: Mapping[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list, got {value!r}")
    return value


def _text(number: Decimal) -> str:
    return format(number, "f")


@dataclass(frozen=True, slots=True)
class Restrictions:
    """When a tariff element applies (OCPI TariffRestrictions); None means no restriction.

    Lower bounds are inclusive and upper bounds exclusive, so that two elements meeting at a
    value never both apply.
    """

    start_time: time | None = None  # local time of day at the site
    end_time: time | None = None  # earlier than start_time: the window spans midnight
    start_date: date | None = None  # local date
    end_date: date | None = None
    min_kwh: Decimal | None = None  # energy charged so far in the session
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None  # A, summed over the phases
    max_current: Decimal | None = None
    min_power: Decimal | None = None  # kW
    max_power: Decimal | None = None
    min_duration: int | None = None  # seconds since the session started
    max_duration: int | None = None
    day_of_week: tuple[DayOfWeek, ...] = ()  # local day; empty means every day
    reservation: ReservationRestriction | None = None  # the element prices a reservation

    @property
    def is_empty(self) -> bool:
        return self == _NO_RESTRICTIONS

    @classmethod
    def from_ocpi(cls, data: Mapping[str, Any]) -> Restrictions:
        """Read an OCPI TariffRestrictions object."""
        reservation = data.get("reservation")
        return cls(
            start_time=_optional_clock(data, "start_time"),
            end_time=_optional_clock(data, "end_time"),
            start_date=_optional_day(data, "start_date"),
            end_date=_optional_day(data, "end_date"),
            min_kwh=_optional_decimal(data, "min_kwh"),
            max_kwh=_optional_decimal(data, "max_kwh"),
            min_current=_optional_decimal(data, "min_current"),
            max_current=_optional_decimal(data, "max_current"),
            min_power=_optional_decimal(data, "min_power"),
            max_power=_optional_decimal(data, "max_power"),
            min_duration=_optional_int(data, "min_duration"),
            max_duration=_optional_int(data, "max_duration"),
            day_of_week=tuple(DayOfWeek(day) for day in data.get("day_of_week") or ()),
            reservation=None if reservation is None else ReservationRestriction(reservation),
        )

    def to_ocpi(self) -> dict[str, Any]:
        """The OCPI TariffRestrictions object, with only the fields that are set."""
        data: dict[str, Any] = {}
        for name in ("start_time", "end_time"):
            clock: time | None = getattr(self, name)
            if clock is not None:
                data[name] = clock.strftime("%H:%M")
        for name in ("start_date", "end_date"):
            day: date | None = getattr(self, name)
            if day is not None:
                data[name] = day.isoformat()
        for name in (
            "min_kwh",
            "max_kwh",
            "min_current",
            "max_current",
            "min_power",
            "max_power",
        ):
            number: Decimal | None = getattr(self, name)
            if number is not None:
                data[name] = _text(number)
        if self.min_duration is not None:
            data["min_duration"] = self.min_duration
        if self.max_duration is not None:
            data["max_duration"] = self.max_duration
        if self.day_of_week:
            data["day_of_week"] = [str(day) for day in self.day_of_week]
        if self.reservation is not None:
            data["reservation"] = str(self.reservation)
        return data


_NO_RESTRICTIONS = Restrictions()


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """A price per unit of one dimension (OCPI PriceComponent)."""

    dimension: Dimension
    price: Decimal  # per kWh, per hour or per session; excl. VAT, major units
    vat: Decimal | None = None  # percent; None means no VAT applies, which is not 0 %
    step_size: int = 1  # billed in blocks of this many Wh (ENERGY) or seconds (TIME, PARKING)

    def __post_init__(self) -> None:
        if self.price < 0:
            raise ValueError(f"a price cannot be negative, got {self.price}")
        if self.vat is not None and self.vat < 0:
            raise ValueError(f"a VAT rate cannot be negative, got {self.vat}")
        if self.step_size < 0:
            raise ValueError(f"a step size cannot be negative, got {self.step_size}")

    @classmethod
    def from_ocpi(cls, data: Mapping[str, Any]) -> PriceComponent:
        """Read an OCPI PriceComponent object."""
        step_size = _optional_int(data, "step_size")
        return cls(
            dimension=Dimension(data["type"]),
            price=_decimal(data.get("price"), "price"),
            vat=_optional_decimal(data, "vat"),
            step_size=1 if step_size is None else step_size,
        )

    def to_ocpi(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": str(self.dimension), "price": _text(self.price)}
        if self.vat is not None:
            data["vat"] = _text(self.vat)
        data["step_size"] = self.step_size
        return data


@dataclass(frozen=True, slots=True)
class TariffElement:
    """Price components that apply together while the restrictions hold."""

    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)

    def component(self, dimension: Dimension) -> PriceComponent | None:
        """This element's price for a dimension; OCPI allows one per dimension, the first wins."""
        return next((c for c in self.price_components if c.dimension is dimension), None)

    @classmethod
    def from_ocpi(cls, data: Mapping[str, Any]) -> TariffElement:
        """Read an OCPI TariffElement object."""
        restrictions = data.get("restrictions")
        return cls(
            price_components=tuple(
                PriceComponent.from_ocpi(component) for component in _list(data, "price_components")
            ),
            restrictions=Restrictions.from_ocpi(restrictions) if restrictions else Restrictions(),
        )

    def to_ocpi(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "price_components": [component.to_ocpi() for component in self.price_components]
        }
        if not self.restrictions.is_empty:
            data["restrictions"] = self.restrictions.to_ocpi()
        return data


@dataclass(frozen=True, slots=True)
class Price:
    """A session price limit (OCPI Price), major units."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None

    @classmethod
    def from_ocpi(cls, data: Mapping[str, Any]) -> Price:
        return cls(
            excl_vat=_decimal(data.get("excl_vat"), "excl_vat"),
            incl_vat=_optional_decimal(data, "incl_vat"),
        )

    def to_ocpi(self) -> dict[str, Any]:
        data = {"excl_vat": _text(self.excl_vat)}
        if self.incl_vat is not None:
            data["incl_vat"] = _text(self.incl_vat)
        return data


@dataclass(frozen=True, slots=True)
class TariffSnapshot:
    """The tariff a session is priced with, as it was when the session started."""

    currency: str  # ISO 4217
    elements: tuple[TariffElement, ...]
    min_price: Price | None = None  # a session costs at least this
    max_price: Price | None = None  # and at most this
    tariff_id: str | None = None  # the OCPI tariff id, for the CDR

    @classmethod
    def from_ocpi(
        cls,
        tariff: Mapping[str, Any],
        *,
        currency: str | None = None,
        min_price_minor: int | None = None,
        max_price_minor: int | None = None,
    ) -> TariffSnapshot:
        """Read an OCPI tariff object, or a stored tariff row's JSON (its `elements`).

        The keyword arguments, when given, take precedence: they carry what the tariff table
        keeps in columns, the currency and the minimum and maximum price (excl. VAT, minor units).
        """
        currency = currency or tariff.get("currency")
        if not isinstance(currency, str) or len(currency) != 3:
            raise ValueError(f"a tariff needs an ISO 4217 currency, got {currency!r}")
        return cls(
            currency=currency.upper(),
            elements=tuple(TariffElement.from_ocpi(e) for e in _list(tariff, "elements")),
            min_price=_limit(tariff.get("min_price"), min_price_minor, currency),
            max_price=_limit(tariff.get("max_price"), max_price_minor, currency),
            tariff_id=tariff.get("id") or tariff.get("code"),
        )

    def to_ocpi(self) -> dict[str, Any]:
        """The stored JSON form, which `from_ocpi` reads back to an equal snapshot."""
        data: dict[str, Any] = {}
        if self.tariff_id is not None:
            data["id"] = self.tariff_id
        data["currency"] = self.currency
        data["elements"] = [element.to_ocpi() for element in self.elements]
        if self.min_price is not None:
            data["min_price"] = self.min_price.to_ocpi()
        if self.max_price is not None:
            data["max_price"] = self.max_price.to_ocpi()
        return data


def _limit(data: object, amount_minor: int | None, currency: str) -> Price | None:
    if amount_minor is not None:
        return Price(excl_vat=from_minor_units(amount_minor, currency))
    if isinstance(data, Mapping):
        return Price.from_ocpi(data)
    return None


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One meter reading of a session. Power, current and state hold until the next point;
    the energy register is taken as linear between points."""

    at: datetime  # timezone-aware
    energy_wh: Decimal | int  # energy charged since the session started
    power_w: Decimal | int | None = None
    current_a: Decimal | int | None = None  # summed over the phases
    charging: bool = True  # False: plugged in but not charging (parked, idle, EV full)


@dataclass(frozen=True, slots=True)
class SessionTimeline:
    """A session to price: its start, its end (or now) and its meter readings in between."""

    start: datetime  # timezone-aware
    end: datetime
    points: tuple[TimelinePoint, ...] = ()


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """A stretch of the session in which the state and the applying elements do not change
    (OCPI ChargingPeriod). Element indexes point into the tariff's elements."""

    start: datetime  # UTC
    end: datetime
    charging: bool
    energy_element: int | None
    time_element: int | None  # only while charging
    parking_element: int | None  # only while not charging
    flat_element: int | None  # only on the period that carries the session's flat fee
    energy_wh: Decimal
    time_s: Decimal  # charging time
    parking_time_s: Decimal
    flat: int  # 1 on the period that carries the flat fee, else 0


@dataclass(frozen=True, slots=True)
class Cost:
    """An amount in integer minor units of the breakdown's currency."""

    excl_vat: int
    incl_vat: int

    @property
    def vat(self) -> int:
        return self.incl_vat - self.excl_vat


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    """What a session costs, how it was split, and the totals (OCPI CDR cost fields)."""

    currency: str
    start: datetime  # UTC
    end: datetime
    periods: tuple[ChargingPeriod, ...]
    total_energy_wh: Decimal
    total_time_s: Decimal  # the whole session, charging and not (OCPI total_time)
    total_charging_time_s: Decimal
    total_parking_time_s: Decimal
    energy_cost: Cost
    time_cost: Cost
    parking_cost: Cost
    fixed_cost: Cost  # flat fees, and a minimum price reached with nothing else to pay
    total_cost: Cost
    limit_applied: PriceLimit | None = None


@dataclass(frozen=True, slots=True)
class ApplicableComponent:
    """A price a driver would pay in a session starting now, and when it applies."""

    dimension: Dimension
    element_index: int
    component: PriceComponent
    price_incl_vat: Decimal  # exact, per unit
    conditions: tuple[str, ...]  # in words; empty: applies whatever the session does
    description: str  # e.g. "0.4641 EUR per kWh incl. 19% VAT"


@dataclass(frozen=True, slots=True)
class ApplicablePrices:
    """The price that applies at a moment, for display before a session starts (AFIR)."""

    at: datetime  # the site's local time
    currency: str
    components: tuple[ApplicableComponent, ...]
    notes: tuple[str, ...] = ()  # the minimum and maximum price of a session

    def for_dimension(self, dimension: Dimension) -> tuple[ApplicableComponent, ...]:
        return tuple(c for c in self.components if c.dimension is dimension)


@dataclass(frozen=True, slots=True)
class TariffView:
    """A tariff as stored: OCPI-shaped elements (decimals as strings) and limits in minor units
    excl. VAT."""

    id: int
    code: str  # the OCPI tariff id
    name: str
    currency: str
    type: str | None  # AD_HOC_PAYMENT | PROFILE_CHEAP | PROFILE_FAST | PROFILE_GREEN | REGULAR
    elements: list[dict[str, Any]]
    min_price_minor: int | None
    max_price_minor: int | None
    alt_text: list[dict[str, Any]]
    start_at: datetime | None
    end_at: datetime | None
    updated_at: datetime

    def snapshot(self) -> TariffSnapshot:
        """The priceable form, as a session keeps it."""
        return TariffSnapshot.from_ocpi(
            {"id": self.code, "elements": self.elements},
            currency=self.currency,
            min_price_minor=self.min_price_minor,
            max_price_minor=self.max_price_minor,
        )


@dataclass(frozen=True, slots=True)
class TariffAssignmentView:
    """Where a tariff applies: the organization (no site, station or connector), a site, a
    station or a connector, optionally only for one token group or roaming partner."""

    id: int
    tariff_id: int
    site_id: int | None
    station_id: int | None
    connector_id: int | None
    token_group_id: str | None
    partner_id: int | None


@dataclass(frozen=True, slots=True)
class ConnectorPlace:
    """Where a connector is, as tariff assignments name places."""

    site_id: int | None
    station_id: int
    connector_id: int
