"""Every query of the smart-charging domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import Combinable
from piccolo.query.functions.aggregate import Count

from app.smart_charging.models import (
    ChargingEvse,
    ChargingProfileSource,
    ChargingProfileStatus,
    ChargingProfileView,
    CompositeScheduleView,
    DefaultLimit,
    DemandResponseEventView,
    HeldLimits,
    LimitInForce,
    ProfileSelector,
    SiteGrid,
    SiteStation,
)
from app.stations.grid import TENTH_A
from app.timeparse import utcnow
from db.tables import (
    ChargingProfile,
    ChargingSession,
    ChargingStation,
    CompositeSchedule,
    DemandResponseEvent,
    Evse,
    Site,
)

ACTIVE = "active"
CANCELLED = "cancelled"

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


async def end_transaction_profiles(station_id: int, transaction_ids: Sequence[str]) -> None:
    """The TxProfiles of these transactions, which ended: a station drops them."""
    await ChargingProfile.update({ChargingProfile.status: ChargingProfileStatus.ENDED}).where(
        (ChargingProfile.station == station_id)
        & ChargingProfile.transaction_id.is_in(list(transaction_ids))
        & (ChargingProfile.purpose == "TxProfile")
        & (ChargingProfile.status == ACTIVE)
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


_EVENT_COLUMNS = (
    DemandResponseEvent.id,
    DemandResponseEvent.site,
    DemandResponseEvent.starts_at,
    DemandResponseEvent.ends_at,
    DemandResponseEvent.limit_a,
    DemandResponseEvent.source,
    DemandResponseEvent.status,
    DemandResponseEvent.created_at,
)


def _event(row: dict[str, Any]) -> DemandResponseEventView:
    return DemandResponseEventView(
        id=row["id"],
        site_id=row["site"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        limit_a=Decimal(row["limit_a"]).quantize(TENTH_A),
        source=row["source"],
        cancelled=row["status"] == CANCELLED,
        created_at=row["created_at"],
    )


async def add_demand_response_event(
    organization_id: int,
    site_id: int,
    window: tuple[datetime, datetime],
    limit_a: Decimal,
    source: str,
    external_id: str,
) -> DemandResponseEventView:
    starts_at, ends_at = window
    rows = await DemandResponseEvent.insert(
        DemandResponseEvent(
            organization=organization_id,
            site=site_id,
            source=source,
            external_id=external_id,
            starts_at=starts_at,
            ends_at=ends_at,
            limit_a=limit_a,
            created_at=utcnow(),
        )
    ).returning(DemandResponseEvent.id)
    found = await demand_response_events_by_ids(organization_id, [rows[0]["id"]])
    return found[0]


async def demand_response_events_to_come(
    organization_id: int, site_ids: Sequence[int], now: datetime
) -> list[DemandResponseEventView]:
    """The sites' events in force at `now` or later, earliest first (a cancelled one is
    neither)."""
    rows = (
        await DemandResponseEvent.select(*_EVENT_COLUMNS)
        .where(
            (DemandResponseEvent.organization == organization_id)
            & DemandResponseEvent.site.is_in(list(site_ids))
            & (DemandResponseEvent.ends_at > now)
            & (DemandResponseEvent.status != CANCELLED)
        )
        .order_by(DemandResponseEvent.starts_at)
        .order_by(DemandResponseEvent.id)
    )
    return [_event(row) for row in rows]


async def demand_response_events_by_ids(
    organization_id: int, event_ids: Sequence[int]
) -> list[DemandResponseEventView]:
    rows = await DemandResponseEvent.select(*_EVENT_COLUMNS).where(
        (DemandResponseEvent.organization == organization_id)
        & DemandResponseEvent.id.is_in(list(event_ids))
    )
    return [_event(row) for row in rows]


async def end_demand_response_event(
    organization_id: int, event_id: int, now: datetime
) -> DemandResponseEventView | None:
    """Cancel an event: it ends now, or, not begun yet, never begins. One that ended already
    stays as it was."""
    found = await demand_response_events_by_ids(organization_id, [event_id])
    if not found:
        return None
    event = found[0]
    if event.cancelled or event.ends_at <= now:
        return event
    await DemandResponseEvent.update(
        {
            DemandResponseEvent.status: CANCELLED,
            DemandResponseEvent.ends_at: max(now, event.starts_at),
        }
    ).where(DemandResponseEvent.id == event_id)
    return (await demand_response_events_by_ids(organization_id, [event_id]))[0]


async def limited_sites(now: datetime) -> list[SiteGrid]:
    """Sites with a grid capacity, a demand response event in force, or an EVSE holding a
    load-balancing limit (which must be lifted once nothing limits its site)."""
    events = await DemandResponseEvent.select(*_EVENT_COLUMNS).where(
        (DemandResponseEvent.starts_at <= now)
        & (DemandResponseEvent.ends_at > now)
        & (DemandResponseEvent.status != CANCELLED)
        & DemandResponseEvent.site.is_not_null()
    )
    by_site: dict[int, list[DemandResponseEventView]] = {}
    for row in events:
        by_site.setdefault(row["site"], []).append(_event(row))
    limiting = ChargingStation.select(ChargingStation.site).where(
        ChargingStation.id.is_in(
            ChargingProfile.select(ChargingProfile.station).where(
                (ChargingProfile.source == ChargingProfileSource.SITE_LIMIT)
                & (ChargingProfile.status == ACTIVE)
            )
        )
    )
    where: Combinable = Site.grid_capacity_a.is_not_null() | Site.id.is_in(limiting)
    if by_site:
        where = where | Site.id.is_in(list(by_site))
    rows = await Site.select(
        Site.id,
        Site.organization,
        Site.grid_capacity_a,
        Site.grid_phases,
        Site.min_current_a,
        Site.load_balancing,
    ).where(where & Site.deleted_at.is_null())
    return [
        SiteGrid(
            site_id=row["id"],
            organization_id=row["organization"],
            grid_capacity_a=row["grid_capacity_a"],
            grid_phases=row["grid_phases"],
            min_current_a=Decimal(row["min_current_a"]),
            load_balancing=row["load_balancing"],
            events=tuple(by_site.get(row["id"], ())),
        )
        for row in rows
    ]


async def charging_evses(site_ids: Sequence[int]) -> list[ChargingEvse]:
    """The EVSEs with a running session at these sites, earliest session first."""
    if not site_ids:
        return []
    rows = (
        await ChargingSession.select(
            ChargingSession.id,
            ChargingSession.station,
            ChargingSession.station.site.as_alias("site"),
            ChargingSession.station.identity.as_alias("identity"),
            ChargingSession.station.connected.as_alias("connected"),
            ChargingSession.evse.evse_id.as_alias("evse_number"),
            ChargingSession.connector.max_amperage.as_alias("max_amperage"),
            ChargingSession.transaction_id,
            ChargingSession.started_at,
        )
        .where(
            (ChargingSession.state == "active") & ChargingSession.station.site.is_in(list(site_ids))
        )
        .order_by(ChargingSession.started_at)
        .order_by(ChargingSession.id)
    )
    return [
        ChargingEvse(
            site_id=row["site"],
            station_id=row["station"],
            identity=row["identity"],
            connected=bool(row["connected"]),
            evse_id=row["evse_number"],
            session_id=row["id"],
            transaction_id=row["transaction_id"],
            started_at=row["started_at"],
            max_current_a=None if row["max_amperage"] is None else Decimal(row["max_amperage"]),
        )
        for row in rows
        if row["evse_number"] is not None
    ]


async def stations_at_sites(site_ids: Sequence[int]) -> list[SiteStation]:
    """The stations at these sites, with how many EVSEs each has reported."""
    if not site_ids:
        return []
    stations = await ChargingStation.select(
        ChargingStation.id,
        ChargingStation.site,
        ChargingStation.identity,
        ChargingStation.connected,
        ChargingStation.last_boot_at,
    ).where(ChargingStation.site.is_in(list(site_ids)))
    if not stations:
        return []
    counts = (
        await Evse.select(Evse.station, Count(alias="evses"))
        .where(Evse.station.is_in([row["id"] for row in stations]))
        .group_by(Evse.station)
    )
    evses = {row["station"]: int(row["evses"]) for row in counts}
    return [
        SiteStation(
            site_id=row["site"],
            station_id=row["id"],
            identity=row["identity"],
            connected=bool(row["connected"]),
            evses=max(1, evses.get(row["id"], 0)),
            last_boot_at=row["last_boot_at"],
        )
        for row in stations
    ]


def _first_limit(schedule: dict[str, Any]) -> Decimal | None:
    """The limit of a kept schedule's first period (camelCase, as on the wire)."""
    periods = schedule.get("chargingSchedulePeriod") or []
    return Decimal(str(periods[0]["limit"])) if periods else None


async def held_limits(station_ids: Sequence[int]) -> HeldLimits:
    """What these stations hold of load balancing's limits and of roaming partners' own, in
    one read of their active profiles."""
    held = HeldLimits({}, {}, {})
    if not station_ids:
        return held
    rows = await ChargingProfile.select(
        ChargingProfile.station,
        ChargingProfile.evse_id,
        ChargingProfile.purpose,
        ChargingProfile.transaction_id,
        ChargingProfile.schedule,
        ChargingProfile.source,
        ChargingProfile.created_at,
    ).where(
        ChargingProfile.station.is_in(list(station_ids))
        & ChargingProfile.source.is_in(
            [ChargingProfileSource.SITE_LIMIT, ChargingProfileSource.OCPI]
        )
        & (ChargingProfile.status == ACTIVE)
    )
    for row in rows:
        schedule = row["schedule"]
        schedule = json.loads(schedule) if isinstance(schedule, str) else schedule or {}
        station, purpose = row["station"], row["purpose"]
        if row["source"] == ChargingProfileSource.OCPI:
            if purpose == "TxProfile" and row["transaction_id"] is not None:
                held.partners[(station, row["transaction_id"])] = schedule
            continue
        limit = _first_limit(schedule)
        if limit is None:
            continue
        if purpose == "TxProfile":
            held.sessions[(station, row["evse_id"])] = LimitInForce(row["transaction_id"], limit)
        elif purpose == "TxDefaultProfile":
            held.defaults[station] = DefaultLimit(limit, row["created_at"])
    return held
