"""Charging profiles a roaming partner sets on its drivers' sessions (OCPI chargingprofiles):
a limit over time for one running session, installed on the station as that transaction's
TxProfile through the command service (as the API's setChargingProfile is), read back as
the station's composite schedule, and cleared. The smart-charging domain records what the
station accepted, with the partner as its source.

A partner's profile for a session has a fixed id on the station, the session's number, so a
new one replaces the last and clearing it leaves every other profile in place. It sits at
PARTNER_STACK_LEVEL, above a station's default profiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import (
    ClearChargingProfile,
    Command,
    CommandResult,
    GetCompositeSchedule,
    SetChargingProfile,
)
from app.errors import CPMSError, InvalidInput
from app.roaming.commands import running_session_of_partner
from app.roaming.models import CallingPartner
from app.sessions.models import SessionView
from app.unit_of_work import UnitOfWork

PARTNER_STACK_LEVEL = 5
RATE_UNITS = {"A", "W"}


@dataclass(frozen=True)
class SessionLimit:
    """What a partner asks for: from `start` (None: the session's start), for `duration_s`
    (None: until the session ends), at most each period's limit from its start (seconds),
    in amperes per phase or watts."""

    unit: str  # A | W
    periods: tuple[tuple[int, float], ...]
    start: datetime | None = None
    duration_s: int | None = None
    min_rate: float | None = None


@dataclass(frozen=True)
class ProfileOrder:
    """A checked request, ready to send to the station the session runs at."""

    identity: str
    command: Command
    actor: str


@dataclass(frozen=True)
class ActiveLimit:
    """The limits in force at the session's EVSE, as the station reports them."""

    start: datetime
    unit: str
    periods: tuple[tuple[int, float], ...]
    duration_s: int | None


class ProfileOutcome:
    """How a sent request ended, in the words the partner is told."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"  # nothing to clear, or no schedule to report


async def set_limit(caller: CallingPartner, session_id: int, limit: SessionLimit) -> ProfileOrder:
    """Install the partner's limit on its running session (UnknownSession, CommandRefused;
    InvalidInput for periods a station would refuse)."""
    starts = [start for start, _ in limit.periods]
    if not starts or starts[0] != 0 or starts != sorted(set(starts)):
        raise InvalidInput(
            "charging_profile_period: at least one, the first from 0, in ascending start_period"
        )
    if limit.unit not in RATE_UNITS:
        raise InvalidInput("charging_rate_unit: A or W")
    session, station = await running_session_of_partner(caller, session_id)
    schedule: dict[str, Any] = {
        "charging_rate_unit": limit.unit,
        "charging_schedule_period": [
            {"start_period": start, "limit": rate} for start, rate in limit.periods
        ],
    }
    if limit.duration_s is not None:
        schedule["duration"] = limit.duration_s
    if limit.start is not None:
        schedule["start_schedule"] = limit.start.isoformat()
    if limit.min_rate is not None:
        schedule["min_charging_rate"] = limit.min_rate
    profile = {
        "charging_profile_id": session.id,
        "transaction_id": _transaction_id(session.transaction_id),
        "stack_level": PARTNER_STACK_LEVEL,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Absolute" if limit.start is not None else "Relative",
        "charging_schedule": schedule,
    }
    command = SetChargingProfile(evse_id=_evse(session), profile=profile)
    return ProfileOrder(station.identity, command, commands.partner_actor(caller.partner_id))


async def clear_limit(caller: CallingPartner, session_id: int) -> ProfileOrder:
    """Remove the partner's limit from its running session."""
    session, station = await running_session_of_partner(caller, session_id)
    command = ClearChargingProfile(profile_id=session.id)
    return ProfileOrder(station.identity, command, commands.partner_actor(caller.partner_id))


async def read_limit(
    caller: CallingPartner, session_id: int, duration_s: int, unit: str | None = None
) -> ProfileOrder:
    """Ask the station for the limits in force at the session's EVSE for `duration_s`."""
    session, station = await running_session_of_partner(caller, session_id)
    command = GetCompositeSchedule(evse_id=_evse(session), duration_s=duration_s, rate_unit=unit)
    return ProfileOrder(station.identity, command, commands.partner_actor(caller.partner_id))


async def carry_out(
    gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork], order: ProfileOrder
) -> tuple[str, ActiveLimit | None]:
    """Send the request; how it ended (a ProfileOutcome) and, for a read, what is in force."""
    try:
        result = await commands.send_command(
            gateway, unit_of_work, order.identity, order.command, order.actor
        )
    except CPMSError:  # offline, timed out, not supported
        return ProfileOutcome.REJECTED, None
    if isinstance(order.command, ClearChargingProfile) and result.status == "Unknown":
        return ProfileOutcome.UNKNOWN, None
    if not result.accepted:
        return ProfileOutcome.REJECTED, None
    if isinstance(order.command, GetCompositeSchedule):
        active = _active_limit(result)
        return (ProfileOutcome.ACCEPTED, active) if active else (ProfileOutcome.UNKNOWN, None)
    return ProfileOutcome.ACCEPTED, None


def _active_limit(result: CommandResult) -> ActiveLimit | None:
    """The station's composite schedule (2.0.1 CompositeScheduleType fields, whatever the
    version) as the partner reads it."""
    schedule = result.data.get("schedule")
    if not isinstance(schedule, dict) or schedule.get("charging_rate_unit") not in RATE_UNITS:
        return None
    start = schedule.get("schedule_start")
    if not isinstance(start, str):
        return None
    periods = tuple(
        (int(period["start_period"]), float(period["limit"]))
        for period in schedule.get("charging_schedule_period") or []
    )
    duration = schedule.get("duration")
    return ActiveLimit(
        start=datetime.fromisoformat(start.replace("Z", "+00:00")),
        unit=schedule["charging_rate_unit"],
        periods=periods,
        duration_s=int(duration) if duration is not None else None,
    )


def _evse(session: SessionView) -> int:
    return session.evse_id if session.evse_id is not None else (session.connector_id or 0)


def _transaction_id(transaction_id: str) -> int | str:
    """1.6 numbers its transactions; 2.0.1 names them (the 2.0.1 adapter takes either)."""
    return int(transaction_id) if transaction_id.isdigit() else transaction_id
