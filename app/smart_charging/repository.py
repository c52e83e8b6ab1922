"""Every query of the smart-charging domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from piccolo.columns.combination import Combinable

from app.smart_charging.models import (
    ChargingProfileView,
    CompositeScheduleView,
    ProfileSelector,
)
from app.timeparse import utcnow
from db.tables import ChargingProfile, CompositeSchedule

ACTIVE = "active"

_COLUMNS = (
    ChargingProfile.id,
    ChargingProfile.station,
    ChargingProfile.evse_id,
    ChargingProfile.profile_id,
    ChargingProfile.stack_level,
    ChargingProfile.purpose,
    ChargingProfile.kind,
    ChargingProfile.recurrency_kind,
    ChargingProfile.valid_from,
    ChargingProfile.valid_to,
    ChargingProfile.transaction_id,
    ChargingProfile.schedule,
    ChargingProfile.source,
    ChargingProfile.status,
    ChargingProfile.created_at,
)


def _profile(row: dict[str, Any]) -> ChargingProfileView:
    schedule = row.pop("schedule")
    row["station_id"] = row.pop("station")
    return ChargingProfileView(
        **row, schedule=json.loads(schedule) if isinstance(schedule, str) else schedule or {}
    )


async def install(
    organization_id: int,
    station_id: int,
    evse_id: int,
    profile: dict[str, Any],
    valid_from: datetime | None,
    valid_to: datetime | None,
    source: str,
) -> None:
    """Record a profile the station accepted. As on the station, it replaces an active one
    with the same id, or with the same EVSE, purpose and stack level."""
    purpose, stack_level = profile["charging_profile_purpose"], profile["stack_level"]
    await ChargingProfile.update({ChargingProfile.status: "replaced"}).where(
        (ChargingProfile.station == station_id)
        & (ChargingProfile.status == ACTIVE)
        & (
            (ChargingProfile.profile_id == profile["charging_profile_id"])
            | (
                (ChargingProfile.evse_id == evse_id)
                & (ChargingProfile.purpose == purpose)
                & (ChargingProfile.stack_level == stack_level)
            )
        )
    )
    await ChargingProfile.insert(
        ChargingProfile(
            organization=organization_id,
            station=station_id,
            evse_id=evse_id,
            profile_id=profile["charging_profile_id"],
            stack_level=stack_level,
            purpose=purpose,
            kind=profile.get("charging_profile_kind", "Absolute"),
            recurrency_kind=profile.get("recurrency_kind"),
            valid_from=valid_from,
            valid_to=valid_to,
            transaction_id=_text(profile.get("transaction_id")),
            schedule=profile["charging_schedule"],
            source=source,
            status=ACTIVE,
        )
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def clear(station_id: int, selector: ProfileSelector) -> int:
    """Mark the station's matching active profiles cleared; how many."""
    where: Combinable = (ChargingProfile.station == station_id) & (ChargingProfile.status == ACTIVE)
    for column, value in (
        (ChargingProfile.profile_id, selector.profile_id),
        (ChargingProfile.evse_id, selector.evse_id),
        (ChargingProfile.purpose, selector.purpose),
        (ChargingProfile.stack_level, selector.stack_level),
    ):
        if value is not None:
            where = where & (column == value)
    cleared = (
        await ChargingProfile.update({ChargingProfile.status: "cleared"})
        .where(where)
        .returning(ChargingProfile.id)
    )
    return len(cleared)


async def profiles_of_stations(
    organization_id: int, station_ids: Sequence[int], include_inactive: bool
) -> list[ChargingProfileView]:
    query = ChargingProfile.select(*_COLUMNS).where(
        (ChargingProfile.organization == organization_id)
        & ChargingProfile.station.is_in(list(station_ids))
    )
    if not include_inactive:
        query = query.where(ChargingProfile.status == ACTIVE)
    rows = await query.order_by(
        ChargingProfile.station,
        ChargingProfile.evse_id,
        ChargingProfile.purpose,
        ChargingProfile.stack_level,
        ChargingProfile.id,
    )
    return [_profile(row) for row in rows]


async def profiles_by_ids(
    organization_id: int, profile_ids: Sequence[int]
) -> list[ChargingProfileView]:
    rows = await ChargingProfile.select(*_COLUMNS).where(
        (ChargingProfile.organization == organization_id)
        & ChargingProfile.id.is_in(list(profile_ids))
    )
    return [_profile(row) for row in rows]


async def keep_composite(
    organization_id: int, station_id: int, evse_id: int, schedule: dict[str, Any]
) -> None:
    """The EVSE's latest composite schedule, in place of the one before."""
    await CompositeSchedule.delete().where(
        (CompositeSchedule.station == station_id) & (CompositeSchedule.evse_id == evse_id)
    )
    await CompositeSchedule.insert(
        CompositeSchedule(
            organization=organization_id,
            station=station_id,
            evse_id=evse_id,
            schedule=schedule,
            received_at=utcnow(),
        )
    )


async def composites_of_stations(
    organization_id: int, station_ids: Sequence[int]
) -> list[CompositeScheduleView]:
    rows = (
        await CompositeSchedule.select(
            CompositeSchedule.station,
            CompositeSchedule.evse_id,
            CompositeSchedule.schedule,
            CompositeSchedule.received_at,
        )
        .where(
            (CompositeSchedule.organization == organization_id)
            & CompositeSchedule.station.is_in(list(station_ids))
        )
        .order_by(CompositeSchedule.station, CompositeSchedule.evse_id)
    )
    return [
        CompositeScheduleView(
            station_id=row["station"],
            evse_id=row["evse_id"],
            schedule=json.loads(row["schedule"])
            if isinstance(row["schedule"], str)
            else row["schedule"] or {},
            received_at=row["received_at"],
        )
        for row in rows
    ]
