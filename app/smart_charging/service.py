"""Use cases of the smart-charging domain."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
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
from app.errors import InvalidInput, NotFound
from app.events import CommandCompleted, SessionChanged
from app.smart_charging import repository
from app.smart_charging.models import (
    SMART_CHARGING_ACTOR,
    ChargingProfileSource,
    ChargingProfileView,
    CompositeScheduleView,
    DemandResponseEventView,
    DemandResponseSource,
    ProfileSelector,
)
from app.stations import service as stations
from app.stations.grid import MAX_GRID_CAPACITY_A, checked_amperes
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# Demand response events not yet over, per site: a bound on what one site keeps and shows.
MAX_EVENTS_TO_COME = 100
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
            source = ChargingProfileSource.OPERATOR
            if actor.startswith(commands.PARTNER_ACTOR):
                source = ChargingProfileSource.OCPI
            elif actor == SMART_CHARGING_ACTOR:
                source = ChargingProfileSource.SITE_LIMIT
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


def has_ended(change: SessionChanged) -> bool:
    return change.phase == "ended"


async def end_transaction_profiles(_uow: UnitOfWork, changes: Sequence[SessionChanged]) -> None:
    """Reaction, after commit: a transaction that ended takes its TxProfiles with it on the
    station, so they are no longer shown (or counted by load balancing) as active. One missed
    (the node stopped) is harmless: a limit is only ever read for its own transaction."""
    ended: dict[int, list[str]] = defaultdict(list)
    for change in changes:
        if has_ended(change):
            ended[change.station_id].append(change.transaction_id)
    for station_id, transaction_ids in ended.items():
        await repository.end_transaction_profiles(station_id, transaction_ids)


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


async def create_demand_response_event(
    uow: UnitOfWork,
    principal: Principal,
    site_id: int,
    window: tuple[datetime, datetime],
    limit_a: Decimal,
) -> DemandResponseEventView:
    """A grid operator's request, entered by hand: from `starts_at` to `ends_at` the site
    draws at most `limit_a` per phase (0: nothing)."""
    require(principal, Permission.OPERATE)
    starts_at, ends_at = window
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("startsAt and endsAt: with a time zone offset")
    if ends_at <= starts_at:
        raise InvalidInput("endsAt: after startsAt")
    now = utcnow()
    if ends_at <= now:
        raise InvalidInput("endsAt: in the future (this event would be over)")
    limit = checked_amperes(limit_a, "limitA", Decimal(0), Decimal(MAX_GRID_CAPACITY_A))
    if not await stations.sites_by_ids(principal, [site_id]):
        raise NotFound(f"no site {site_id}")
    async with uow:
        to_come = await repository.demand_response_events_to_come(
            principal.organization_id, [site_id], now
        )
        if len(to_come) >= MAX_EVENTS_TO_COME:
            raise InvalidInput(
                f"a site has at most {MAX_EVENTS_TO_COME} demand response events to come"
            )
        return await repository.add_demand_response_event(
            principal.organization_id,
            site_id,
            (starts_at.astimezone(UTC), ends_at.astimezone(UTC)),
            limit,
            DemandResponseSource.OPERATOR,
            f"{DemandResponseSource.OPERATOR}-{uuid.uuid4().hex}",
        )


async def cancel_demand_response_event(
    uow: UnitOfWork, principal: Principal, event_id: int
) -> DemandResponseEventView:
    """End an event now (one not begun yet never begins); one already over stays as it was."""
    require(principal, Permission.OPERATE)
    async with uow:
        event = await repository.end_demand_response_event(
            principal.organization_id, event_id, utcnow()
        )
    if event is None:
        raise NotFound(f"no demand response event {event_id}")
    return event


async def demand_response_events_to_come(
    principal: Principal, site_ids: Sequence[int]
) -> dict[int, list[DemandResponseEventView]]:
    """Each site's events in force now or later, earliest first."""
    require(principal, Permission.READ_NETWORK)
    grouped: dict[int, list[DemandResponseEventView]] = defaultdict(list)
    for event in await repository.demand_response_events_to_come(
        principal.organization_id, site_ids, utcnow()
    ):
        grouped[event.site_id].append(event)
    return grouped


async def demand_response_events_by_ids(
    principal: Principal, event_ids: Sequence[int]
) -> dict[int, DemandResponseEventView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.demand_response_events_by_ids(principal.organization_id, event_ids)
    return {event.id: event for event in found}
