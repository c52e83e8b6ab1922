"""Use cases of the smart-charging domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ocpp.charge_point import snake_to_camel_case

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.smart_charging import repository
from app.smart_charging.models import (
    ChargingProfileView,
    CompositeScheduleView,
    ProfileSelector,
)
from app.stations.models import StationRecord
from app.unit_of_work import UnitOfWork


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


async def record_installed(
    uow: UnitOfWork,
    station: StationRecord,
    evse_id: int,
    profile: dict[str, Any],
    source: str = "operator",
) -> None:
    """A profile (1.6 ChargingProfile, snake_case keys) the station accepted. Its schedule is
    kept as it went on the wire (camelCase)."""
    schedule = snake_to_camel_case(profile["charging_schedule"])
    async with uow:
        await repository.install(
            station.organization_id,
            station.id,
            evse_id,
            {**profile, "charging_schedule": schedule},
            _time(profile.get("valid_from")),
            _time(profile.get("valid_to")),
            source,
        )


async def record_cleared(uow: UnitOfWork, station: StationRecord, selector: ProfileSelector) -> int:
    """The station accepted a ClearChargingProfile: its matching profiles are gone."""
    async with uow:
        return await repository.clear(station.id, selector)


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


async def record_composite_schedule(
    uow: UnitOfWork, station: StationRecord, evse_id: int, schedule: dict[str, Any]
) -> None:
    """A composite schedule the station reported (GetCompositeSchedule): kept per EVSE, the
    latest in place of the one before."""
    async with uow:
        await repository.keep_composite(station.organization_id, station.id, evse_id, schedule)


async def composite_schedules(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, list[CompositeScheduleView]]:
    """Each station's latest composite schedules, by EVSE."""
    require(principal, Permission.READ_NETWORK)
    grouped: dict[int, list[CompositeScheduleView]] = defaultdict(list)
    for schedule in await repository.composites_of_stations(principal.organization_id, station_ids):
        grouped[schedule.station_id].append(schedule)
    return grouped
