"""Use cases of the smart-charging domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ocpp.charge_point import snake_to_camel_case

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.commands import service as commands
from app.commands.models import (
    ClearChargingProfile,
    CommandAction,
    CommandStatus,
    GetCompositeSchedule,
    SetChargingProfile,
)
from app.events import CommandCompleted
from app.smart_charging import repository
from app.smart_charging.models import (
    ChargingProfileSource,
    ChargingProfileView,
    CompositeScheduleView,
    ProfileSelector,
)
from app.unit_of_work import UnitOfWork

# The commands whose acceptance changes what is kept here.
PROFILE_COMMANDS = frozenset(
    {
        CommandAction.SET_CHARGING_PROFILE,
        CommandAction.CLEAR_CHARGING_PROFILE,
        CommandAction.GET_COMPOSITE_SCHEDULE,
    }
)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


async def record_accepted_commands(_uow: UnitOfWork, events: Sequence[CommandCompleted]) -> None:
    """Reaction, in the transaction that logs a command's answer: what a station accepted
    changes the profiles and schedules kept for it."""
    for event in events:
        await _record_accepted(event)


async def _record_accepted(event: CommandCompleted) -> None:
    if event.status != CommandStatus.ACCEPTED or event.action not in PROFILE_COMMANDS:
        return
    logged = await commands.logged_command(event.organization_id, event.command_log_id)
    if logged is None:
        return
    command, response, actor = logged
    match command:
        case SetChargingProfile():
            source = (
                ChargingProfileSource.OCPI
                if actor.startswith(commands.PARTNER_ACTOR)
                else ChargingProfileSource.OPERATOR
            )
            await _record_installed(event.organization_id, event.station_id, command, source)
        case ClearChargingProfile():
            selector = ProfileSelector(
                command.profile_id, command.evse_id, command.purpose, command.stack_level
            )
            await repository.clear(event.station_id, selector)
        case GetCompositeSchedule() if response.get("schedule"):
            await repository.keep_composite(
                event.organization_id, event.station_id, command.evse_id, response["schedule"]
            )


async def _record_installed(
    organization_id: int,
    station_id: int,
    command: SetChargingProfile,
    source: ChargingProfileSource,
) -> None:
    """A profile (1.6 ChargingProfile, snake_case keys) the station accepted. Its schedule is
    kept as it went on the wire (camelCase)."""
    profile = command.profile
    schedule = snake_to_camel_case(profile["charging_schedule"])
    await repository.install(
        organization_id,
        station_id,
        command.evse_id,
        {**profile, "charging_schedule": schedule},
        _time(profile.get("valid_from")),
        _time(profile.get("valid_to")),
        source,
    )


async def profiles_of_stations(
    principal: Principal, station_ids: Sequence[int], include_inactive: bool = False
) -> dict[int, list[ChargingProfileView]]:
    """Each station's profiles by EVSE, purpose and stack level."""
    require(principal, Permission.READ_NETWORK)
    grouped: dict[int, list[ChargingProfileView]] = defaultdict(list)
    for profile in await repository.profiles_of_stations(
        principal.organization_id, station_ids, include_inactive
    ):
        grouped[profile.station_id].append(profile)
    return grouped


async def profiles_by_ids(
    principal: Principal, profile_ids: Sequence[int]
) -> dict[int, ChargingProfileView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.profiles_by_ids(principal.organization_id, profile_ids)
    return {profile.id: profile for profile in found}


async def composite_schedules(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, list[CompositeScheduleView]]:
    """Each station's latest composite schedules, by EVSE."""
    require(principal, Permission.READ_NETWORK)
    grouped: dict[int, list[CompositeScheduleView]] = defaultdict(list)
    for schedule in await repository.composites_of_stations(principal.organization_id, station_ids):
        grouped[schedule.station_id].append(schedule)
    return grouped
