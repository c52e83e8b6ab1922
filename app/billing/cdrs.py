"""A session's charge detail record, computed from its timeline and tariff snapshot. Pure: the
CDR's values, no I/O."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from app.sessions.models import BillableSession
from app.tariffs.calculator import price_session
from app.tariffs.models import (
    ChargingPeriod,
    Cost,
    PriceBreakdown,
    SessionTimeline,
    TariffSnapshot,
    TimelinePoint,
)

# Below this power a plugged-in vehicle is taken as not charging (parked, full, paused):
# trickle and standby draws of a few watts must not count as charging time.
IDLE_POWER_W = 50


def cdr_code(session_id: int) -> str:
    """The CDR id: one per session, so issuing twice finds the first."""
    return f"CDR-{session_id}"


def timeline(session: BillableSession) -> SessionTimeline:
    """Meter points as the calculator reads them, from the start (0 Wh) to the end. A point's
    state holds until the next one: charging while its power is above idle or, without a
    power reading, while the energy still rises towards the next point."""
    readings: list[tuple[datetime, int, int | None]] = [(session.started_at, 0, None)]
    for at, energy, power in session.points:
        if session.started_at <= at <= session.ended_at:
            last = readings[-1][1]
            readings.append((at, max(last, energy if energy is not None else last), power))
    readings.append((session.ended_at, max(readings[-1][1], session.energy_wh), None))
    points = []
    for index, (at, energy, power) in enumerate(readings):
        following = readings[index + 1][1] if index + 1 < len(readings) else energy
        charging = power > IDLE_POWER_W if power is not None else following > energy
        points.append(TimelinePoint(at=at, energy_wh=energy, power_w=power, charging=charging))
    return SessionTimeline(start=session.started_at, end=session.ended_at, points=tuple(points))


def _free(session: BillableSession, energy_wh: int) -> PriceBreakdown:
    zero = Cost(excl_vat=0, incl_vat=0)
    total_s = Decimal((session.ended_at - session.started_at).total_seconds())
    return PriceBreakdown(
        currency=session.currency,
        start=session.started_at,
        end=session.ended_at,
        periods=(),
        total_energy_wh=Decimal(energy_wh),
        total_time_s=total_s,
        total_charging_time_s=total_s,
        total_parking_time_s=Decimal(0),
        energy_cost=zero,
        time_cost=zero,
        parking_cost=zero,
        fixed_cost=zero,
        total_cost=zero,
    )


def price(session: BillableSession) -> PriceBreakdown:
    """The session priced with the tariff it started under (free without one)."""
    if session.tariff_snapshot is None:
        return _free(session, session.energy_wh)
    tariff = TariffSnapshot.from_ocpi(session.tariff_snapshot)
    return price_session(tariff, timeline(session), session.time_zone)


def _cost(cost: Cost) -> dict[str, int]:
    return {"excl_vat": cost.excl_vat, "incl_vat": cost.incl_vat}


def _period(period: ChargingPeriod, tariff_id: str | None) -> dict[str, Any]:
    """An OCPI ChargingPeriod: volumes in kWh and hours."""
    volumes = (
        ("ENERGY", period.energy_wh / 1000),
        ("TIME", period.time_s / 3600),
        ("PARKING_TIME", period.parking_time_s / 3600),
        ("FLAT", Decimal(period.flat)),
    )
    return {
        "start_date_time": period.start.isoformat(),
        "dimensions": [
            {"type": kind, "volume": str(volume.normalize())} for kind, volume in volumes if volume
        ],
        "tariff_id": tariff_id,
    }


def cdr_values(session: BillableSession, breakdown: PriceBreakdown) -> dict[str, Any]:
    """The columns of the session's CDR."""
    tariff_id = (session.tariff_snapshot or {}).get("id")
    return {
        "session": session.session_id,
        "code": cdr_code(session.session_id),
        "currency": breakdown.currency,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "total_energy_wh": int(breakdown.total_energy_wh),
        "total_time_s": int(breakdown.total_time_s),
        "total_parking_time_s": int(breakdown.total_parking_time_s),
        "total_cost_excl_vat_minor": breakdown.total_cost.excl_vat,
        "total_cost_incl_vat_minor": breakdown.total_cost.incl_vat,
        "cost_breakdown": {
            "energy": _cost(breakdown.energy_cost),
            "time": _cost(breakdown.time_cost),
            "parking": _cost(breakdown.parking_cost),
            "fixed": _cost(breakdown.fixed_cost),
            "limit_applied": breakdown.limit_applied.value if breakdown.limit_applied else None,
        },
        "charging_periods": [_period(period, tariff_id) for period in breakdown.periods],
        "tariff_snapshot": session.tariff_snapshot,
        "token": session.token,
        "location": session.location,
        "signed_data": {"signed_values": session.signed_data} if session.signed_data else None,
        "partner": session.partner_id,
    }
