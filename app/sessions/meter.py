"""Meter values from either OCPP version into one shape, and what a session learns from them.

Pure: no I/O. Tolerant of what real chargers send: numbers where strings belong, kWh instead of
Wh, energy only per phase, unknown measurands (kept as sent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.sanitize import clean_text
from app.timeparse import parse_timestamp

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SIGNED_FORMAT = "SignedData"
# Scale to the base unit (Wh for energy, W for power).
_UNIT_SCALE = {"wh": Decimal(1), "kwh": Decimal(1000), "w": Decimal(1), "kw": Decimal(1000)}


@dataclass(frozen=True, slots=True)
class Reading:
    sampled_at: datetime
    measurand: str
    phase: str | None
    location: str | None
    unit: str
    context: str | None
    value: Decimal | None
    signed_data: str | None = None
    signing_method: str | None = None
    encoding_method: str | None = None
    public_key: str | None = None

    def in_base_unit(self) -> Decimal | None:
        """The value in Wh or W (None when unknown or signed)."""
        if self.value is None:
            return None
        return self.value * _UNIT_SCALE.get(self.unit.lower(), Decimal(1))


# Readings beyond this are garbage (and beyond what the value column holds).
MAX_READING = Decimal(10) ** 13
MAX_POWER_W = 2**31 - 1


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= MAX_READING:
        return None
    # The value column keeps 6 decimals; finer digits are rounding noise.
    return round(number, 6)


def readings_from_meter_values(meter_values: Iterable[Mapping[str, Any]]) -> list[Reading]:
    """Flatten OCPP MeterValue entries (1.6 or 2.0.1, snake_case keys) into readings."""
    readings: list[Reading] = []
    for meter_value in meter_values:
        sampled_at = parse_timestamp(meter_value.get("timestamp"))
        for sample in meter_value.get("sampled_value") or []:
            readings.append(_reading(sampled_at, sample))
    return readings


def _reading(sampled_at: datetime, sample: Mapping[str, Any]) -> Reading:
    unit_of_measure = sample.get("unit_of_measure") or {}
    unit = clean_text(sample.get("unit") or unit_of_measure.get("unit"), 16) or "Wh"
    measurand = clean_text(sample.get("measurand"), 48) or ENERGY_REGISTER
    signed = sample.get("signed_meter_value")
    common: dict[str, Any] = {
        "sampled_at": sampled_at,
        "measurand": measurand,
        "phase": clean_text(sample.get("phase"), 8),
        "location": clean_text(sample.get("location"), 8),
        "unit": unit,
        "context": clean_text(sample.get("context"), 24),
    }
    if sample.get("format") == SIGNED_FORMAT:
        # 1.6: the value itself is the signed container; kept exactly as received.
        return Reading(**common, value=None, signed_data=clean_text(sample.get("value"), 10_000))
    value = _decimal(sample.get("value"))
    multiplier = unit_of_measure.get("multiplier")
    if value is not None and isinstance(multiplier, int) and -9 <= multiplier <= 9 and multiplier:
        value = _decimal(value.scaleb(multiplier))
    if isinstance(signed, Mapping):
        return Reading(
            **common,
            value=value,
            signed_data=clean_text(signed.get("signed_meter_data"), 10_000),
            signing_method=clean_text(signed.get("signing_method"), 64),
            encoding_method=clean_text(signed.get("encoding_method"), 32),
            public_key=clean_text(signed.get("public_key"), 10_000),
        )
    return Reading(**common, value=value)


# Where a session's energy and power are measured, best first: at the outlet (OCPP's default
# when a reading names no location), where the EV is charged and billed; then on the cable,
# what the EV reports, and last at the grid inlet, which adds the station's own losses. The
# station's own consumption (Body) never counts.
LOCATIONS = ("Outlet", "Cable", "EV", "Inlet")
_COUNTED = frozenset(LOCATIONS)


def _location(reading: Reading) -> str:
    return reading.location or "Outlet"


def _latest_total(readings: Iterable[Reading], measurand: str) -> Decimal | None:
    """The measurand's latest value at the best location it was measured at (LOCATIONS):
    the unphased one, else the sum of its line phases."""
    matching = [r for r in readings if r.measurand == measurand and r.in_base_unit() is not None]
    if not matching:
        return None
    latest_at = max(r.sampled_at for r in matching)
    latest = [r for r in matching if r.sampled_at == latest_at]
    locations = {_location(r) for r in latest}
    if len(locations) > 1 or not locations <= _COUNTED:  # most stations meter at one place
        location = next((place for place in LOCATIONS if place in locations), None)
        if location is None:
            return None
        latest = [r for r in latest if _location(r) == location]
    unphased = [r.in_base_unit() for r in latest if r.phase is None]
    if unphased:
        return max(v for v in unphased if v is not None)
    # Per-phase only: L1, L2, L3 (or L1-N ...) add up; the neutral does not.
    phases = [r.in_base_unit() for r in latest if r.phase not in ("N",)]
    return sum((v for v in phases if v is not None), Decimal(0))


def energy_register_wh(readings: Iterable[Reading]) -> int | None:
    """The latest energy register reading in Wh, if the readings have one."""
    total = _latest_total(list(readings), ENERGY_REGISTER)
    return int(total) if total is not None else None


def power_w(readings: Iterable[Reading]) -> int | None:
    """The latest active import power in W, if the readings have one."""
    total = _latest_total(list(readings), POWER)
    return int(total) if total is not None and abs(total) <= MAX_POWER_W else None


def chart_points(
    readings: Iterable[Reading], meter_start_wh: int | None, max_points: int | None = None
) -> list[tuple[datetime, int | None, int | None]]:
    """(time, energy charged so far in Wh, power in W) per sampling time, for a chart;
    downsampled to at most `max_points` (the last point of each equal time slice)."""
    by_time: dict[datetime, list[Reading]] = {}
    for reading in readings:
        by_time.setdefault(reading.sampled_at, []).append(reading)
    points = []
    for at in sorted(by_time):
        register = energy_register_wh(by_time[at])
        energy = (
            max(0, register - meter_start_wh)
            if register is not None and meter_start_wh is not None
            else None
        )
        points.append((at, energy, power_w(by_time[at])))
    if max_points is None or len(points) <= max_points or max_points < 1:
        return points
    first, last = points[0][0], points[-1][0]
    slice_s = (last - first).total_seconds() / max_points or 1.0
    kept: dict[int, tuple[datetime, int | None, int | None]] = {}
    for point in points:
        kept[min(max_points - 1, int((point[0] - first).total_seconds() / slice_s))] = point
    return [kept[index] for index in sorted(kept)]
