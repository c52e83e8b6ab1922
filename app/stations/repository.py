"""Every query of the stations domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from piccolo.columns import Varchar
from piccolo.columns.combination import Combinable, Where
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query import Max

from app.heartbeat import DEFAULT_HEARTBEAT_INTERVAL_S
from app.pagination import Page, PageRequest
from app.stations.connector_status import REPORTED_STATUSES, ConnectorStatus, reported_as
from app.stations.grid import GRID_FIELDS, TENTH_A
from app.stations.models import (
    LARGEST_REQUEST_ID,
    BootInfo,
    ConfigurationEntry,
    ConnectorView,
    DepartedEvseView,
    EvseView,
    LoggedFrame,
    PlugSnapshot,
    RecordedStatus,
    ReservationFilter,
    ReservationView,
    SiteView,
    StationFilter,
    StationOrder,
    StationRecord,
    StationView,
    StatusReport,
)
from app.timeparse import parse_timestamp, utcnow
from db.paging import page_by_id, page_by_key
from db.tables import (
    ChargingSession,
    ChargingStation,
    Connector,
    DepartedEvse,
    Evse,
    IdToken,
    OcppMessageLog,
    Organization,
    Reservation,
    SecurityEvent,
    Site,
    StationConfiguration,
    StatusChange,
)

_SITE_COLUMNS = (
    Site.id,
    Site.organization,
    Site.name,
    Site.address,
    Site.city,
    Site.postal_code,
    Site.country,
    Site.latitude,
    Site.longitude,
    Site.time_zone,
    Site.publish,
    Site.opening_hours,
    Site.energy_mix,
    Site.parking_restrictions,
    Site.parking_type,
    Site.grid_capacity_a,
    Site.grid_phases,
    Site.min_current_a,
    Site.load_balancing,
    Site.created_at,
    Site.updated_at,
)
_STATION_COLUMNS = (
    ChargingStation.id,
    ChargingStation.organization,
    ChargingStation.site,
    ChargingStation.identity,
    ChargingStation.name,
    ChargingStation.protocol,
    ChargingStation.vendor,
    ChargingStation.model,
    ChargingStation.firmware_version,
    ChargingStation.registration_status,
    ChargingStation.status,
    ChargingStation.connected,
    ChargingStation.last_seen_at,
    ChargingStation.security_profile,
    ChargingStation.free_vend,
    ChargingStation.assumed_protocol,
    ChargingStation.firmware_status,
    ChargingStation.diagnostics_status,
    ChargingStation.heartbeat_interval,
)
_CONNECTOR_COLUMNS = (
    Connector.id,
    Connector.station,
    Connector.evse.evse_id.as_alias("evse_number"),
    Connector.connector_id,
    Connector.standard,
    Connector.format,
    Connector.power_type,
    Connector.max_voltage,
    Connector.max_amperage,
    Connector.max_power_w,
    Connector.status,
    Connector.error_code,
    Connector.vendor_error_code,
    Connector.status_updated_at,
    Connector.station.connected.as_alias("station_connected"),
)
_EVSE_COLUMNS = (Evse.id, Evse.station, Evse.evse_id, Evse.evse_uid, Evse.max_power_w)


def _site(row: dict[str, Any]) -> SiteView:
    row["organization_id"] = row.pop("organization")
    created_at, updated_at = row.pop("created_at"), row.pop("updated_at")
    row["changed_at"] = updated_at or created_at
    # SQLite gives back what was stored (6, not 6.0): always to the tenth, as PostgreSQL does.
    row["min_current_a"] = Decimal(row["min_current_a"]).quantize(TENTH_A)
    for name in ("opening_hours", "energy_mix", "parking_restrictions"):
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    row["parking_restrictions"] = tuple(row["parking_restrictions"] or ())
    return SiteView(**row)


def _station(row: dict[str, Any]) -> StationView:
    row["organization_id"] = row.pop("organization")
    row["site_id"] = row.pop("site")
    return StationView(**row)


def _connector(row: dict[str, Any], charging_state: str | None = None) -> ConnectorView:
    row["station_id"] = row.pop("station")
    row["charging_state"] = charging_state
    row["evse_id"] = row.pop("evse_number")
    row["station_connected"] = bool(row["station_connected"])
    return ConnectorView(**row)


def _evse(row: dict[str, Any]) -> EvseView:
    row["station_id"] = row.pop("station")
    return EvseView(**row)


# Every read for the API takes the caller's organization first and filters by it: one
# organization never sees another's rows, whatever ids a request names.


# A deleted site that partners knew is kept for them (see delete_site), and for nothing else.
_NOT_DELETED = Site.deleted_at.is_null()


async def page_sites(organization_id: int, request: PageRequest) -> Page[SiteView]:
    query = Site.select(*_SITE_COLUMNS).where((Site.organization == organization_id) & _NOT_DELETED)
    return await page_by_id(query, Site.id, request, _site)


async def sites_by_ids(
    organization_id: int, site_ids: Sequence[int], *, deleted_too: bool = False
) -> list[SiteView]:
    """The sites with these ids; `deleted_too`: the deleted ones kept for partners as well."""
    where = (Site.organization == organization_id) & Site.id.is_in(list(site_ids))
    rows = await Site.select(*_SITE_COLUMNS).where(where if deleted_too else where & _NOT_DELETED)
    return [_site(row) for row in rows]


def _contains(column: Varchar, text: str) -> Where:
    """Case-insensitive substring match: ILIKE on PostgreSQL, LIKE on SQLite (which ignores
    ASCII case and has no ILIKE). Not escaped: SQLite's LIKE has no default escape character,
    and a `_` or `%` the user typed matching any character only widens a search."""
    pattern = f"%{text}%"
    if isinstance(ChargingStation._meta.db, SQLiteEngine):
        return column.like(pattern)
    return column.ilike(pattern)


def _station_status_is(status: ConnectorStatus) -> Combinable:
    """Stations whose API status is `status`: offline ones whatever they last said."""
    station = ChargingStation
    if status is ConnectorStatus.OFFLINE:
        return station.connected == False  # noqa: E712 (a SQL comparison)
    if status is ConnectorStatus.UNKNOWN:
        reported = station.status.not_in(list(REPORTED_STATUSES))
    else:
        reported = station.status.is_in(list(reported_as(status)) or ["-"])
    return (station.connected == True) & reported  # noqa: E712


async def page_stations(
    organization_id: int, filters: StationFilter, order: StationOrder, request: PageRequest
) -> Page[StationView]:
    """One page of the organization's stations, filtered, in a stable order."""
    station = ChargingStation
    query = station.select(*_STATION_COLUMNS).where(station.organization == organization_id)
    exact = {
        station.site: filters.site_id,
        station.connected: filters.connected,
        station.registration_status: filters.registration_status,
        station.vendor: filters.vendor,
        station.model: filters.model,
        station.firmware_version: filters.firmware_version,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if filters.search:
        query = query.where(
            _contains(station.identity, filters.search) | _contains(station.name, filters.search)
        )
    if filters.status is not None:
        query = query.where(_station_status_is(filters.status))
    if order is StationOrder.IDENTITY:
        return await page_by_key(query, (station.identity, station.id), request, _station)
    newest = order is StationOrder.NEWEST
    return await page_by_id(query, station.id, request, _station, newest_first=newest)


async def stations_by_ids(organization_id: int, station_ids: Sequence[int]) -> list[StationView]:
    rows = await ChargingStation.select(*_STATION_COLUMNS).where(
        (ChargingStation.organization == organization_id)
        & ChargingStation.id.is_in(list(station_ids))
    )
    return [_station(row) for row in rows]


async def stations_by_site_ids(organization_id: int, site_ids: Sequence[int]) -> list[StationView]:
    rows = (
        await ChargingStation.select(*_STATION_COLUMNS)
        .where(
            (ChargingStation.organization == organization_id)
            & ChargingStation.site.is_in(list(site_ids))
        )
        .order_by(ChargingStation.id)
    )
    return [_station(row) for row in rows]


async def get_station_by_identity(organization_id: int, identity: str) -> StationView | None:
    row = (
        await ChargingStation.select(*_STATION_COLUMNS)
        .where(
            (ChargingStation.organization == organization_id)
            & (ChargingStation.identity == identity)
        )
        .first()
    )
    return _station(row) if row else None


async def connectors_by_ids(
    organization_id: int, connector_ids: Sequence[int]
) -> list[ConnectorView]:
    rows = await Connector.select(*_CONNECTOR_COLUMNS).where(
        (Connector.station.organization == organization_id)
        & Connector.id.is_in(list(connector_ids))
    )
    return await _with_charging_states(rows)


async def connectors_by_station_ids(
    organization_id: int, station_ids: Sequence[int]
) -> list[ConnectorView]:
    rows = (
        await Connector.select(*_CONNECTOR_COLUMNS)
        .where(
            (Connector.station.organization == organization_id)
            & Connector.station.is_in(list(station_ids))
        )
        .order_by(Connector.station, Connector.evse.evse_id, Connector.connector_id)
    )
    return await _with_charging_states(rows)


async def connectors_by_site_ids(
    organization_id: int, site_ids: Sequence[int]
) -> list[ConnectorView]:
    """The connectors of these sites' stations (a site has several stations: fewer ids to
    send than the stations')."""
    rows = (
        await Connector.select(*_CONNECTOR_COLUMNS)
        .where(
            (Connector.station.organization == organization_id)
            & Connector.station.site.is_in(list(site_ids))
        )
        .order_by(Connector.station, Connector.evse.evse_id, Connector.connector_id)
    )
    return await _with_charging_states(rows)


async def _with_charging_states(rows: list[dict[str, Any]]) -> list[ConnectorView]:
    """Connectors, each 2.0.1 Occupied one with its running session's chargingState."""
    occupied = [row["id"] for row in rows if row["status"] == "Occupied"]
    states: dict[int, str] = {}
    if occupied:
        sessions = await ChargingSession.select(
            ChargingSession.connector, ChargingSession.charging_state
        ).where(
            ChargingSession.connector.is_in(occupied)
            & (ChargingSession.state == "active")
            & ChargingSession.charging_state.is_not_null()
        )
        states = {session["connector"]: session["charging_state"] for session in sessions}
    return [_connector(row, states.get(row["id"])) for row in rows]


async def evses_by_ids(organization_id: int, evse_ids: Sequence[int]) -> list[EvseView]:
    rows = await Evse.select(*_EVSE_COLUMNS).where(
        (Evse.station.organization == organization_id) & Evse.id.is_in(list(evse_ids))
    )
    return [_evse(row) for row in rows]


async def evses_by_station_ids(organization_id: int, station_ids: Sequence[int]) -> list[EvseView]:
    rows = (
        await Evse.select(*_EVSE_COLUMNS)
        .where(
            (Evse.station.organization == organization_id) & Evse.station.is_in(list(station_ids))
        )
        .order_by(Evse.station, Evse.evse_id)
    )
    return [_evse(row) for row in rows]


async def evses_by_site_ids(organization_id: int, site_ids: Sequence[int]) -> list[EvseView]:
    rows = (
        await Evse.select(*_EVSE_COLUMNS)
        .where(
            (Evse.station.organization == organization_id) & Evse.station.site.is_in(list(site_ids))
        )
        .order_by(Evse.station, Evse.evse_id)
    )
    return [_evse(row) for row in rows]


async def find_connector(
    organization_id: int, station_id: int, evse_id: int, connector_id: int
) -> ConnectorView | None:
    row = (
        await Connector.select(*_CONNECTOR_COLUMNS)
        .where(
            (Connector.station.organization == organization_id)
            & (Connector.station == station_id)
            & (Connector.evse.evse_id == evse_id)
            & (Connector.connector_id == connector_id)
        )
        .first()
    )
    return _connector(row) if row else None


async def site_of_station(station_id: int) -> SiteView | None:
    row = (
        await ChargingStation.select(ChargingStation.site)
        .where(ChargingStation.id == station_id)
        .first()
    )
    if row is None or row["site"] is None:
        return None
    found = await Site.select(*_SITE_COLUMNS).where(Site.id == row["site"]).first()
    return _site(found) if found else None


async def update_connector(connector_id: int, values: dict[str, Any]) -> None:
    await Connector.update(
        {getattr(Connector, name): value for name, value in values.items()}
    ).where(Connector.id == connector_id)


async def connector_has_sessions(connector_id: int) -> bool:
    return await ChargingSession.exists().where(ChargingSession.connector == connector_id)


async def delete_connector(connector: ConnectorView) -> None:
    """The connector, and its EVSE when that was its last connector."""
    evse = await Connector.select(Connector.evse).where(Connector.id == connector.id).first()
    await Connector.delete().where(Connector.id == connector.id)
    if evse is not None and not await Connector.exists().where(Connector.evse == evse["evse"]):
        await Evse.delete().where(Evse.id == evse["evse"])


_RECORD_COLUMNS = (
    ChargingStation.id,
    ChargingStation.organization,
    ChargingStation.identity,
    ChargingStation.registration_status,
    ChargingStation.security_profile,
    ChargingStation.password_hash,
    ChargingStation.heartbeat_interval,
    ChargingStation.assumed_protocol,
    ChargingStation.free_vend,
    ChargingStation.last_boot_at,
)


def _record(row: dict[str, Any]) -> StationRecord:
    row["organization_id"] = row.pop("organization")
    row["booted"] = row.pop("last_boot_at") is not None
    return StationRecord(**row)


async def get_station_record(identity: str) -> StationRecord | None:
    row = (
        await ChargingStation.select(*_RECORD_COLUMNS)
        .where(ChargingStation.identity == identity)
        .first()
    )
    return _record(row) if row else None


async def site_ids_by_name(organization_id: int) -> dict[str, int]:
    rows = await Site.select(Site.id, Site.name).where(
        (Site.organization == organization_id) & _NOT_DELETED
    )
    return {row["name"]: row["id"] for row in rows}


async def owners_of_identities(identities: Sequence[str]) -> dict[str, int]:
    """The organization of each identity already registered."""
    if not identities:
        return {}
    rows = await ChargingStation.select(
        ChargingStation.identity, ChargingStation.organization
    ).where(ChargingStation.identity.is_in(list(identities)))
    return {row["identity"]: row["organization"] for row in rows}


async def organization_id_by_slug(slug: str) -> int | None:
    row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    return int(row["id"]) if row else None


async def organization_policy(slug: str) -> tuple[int, str] | None:
    """(id, unknown-station policy) of the organization with this slug."""
    row = (
        await Organization.select(Organization.id, Organization.unknown_station_policy)
        .where(Organization.slug == slug)
        .first()
    )
    return (int(row["id"]), str(row["unknown_station_policy"])) if row else None


async def create_station(
    *,
    organization_id: int,
    identity: str,
    registration_status: str,
    security_profile: int,
    password_hash: str | None,
) -> StationRecord:
    """The new station, with its organization's heartbeat interval; or the one a concurrent
    connection of the same identity (a station retrying while its first attempt registers it)
    created a moment before."""
    organization = (
        await Organization.select(Organization.heartbeat_interval_s)
        .where(Organization.id == organization_id)
        .first()
    )
    station = ChargingStation(
        organization=organization_id,
        identity=identity,
        registration_status=registration_status,
        security_profile=security_profile,
        password_hash=password_hash,
        heartbeat_interval=organization["heartbeat_interval_s"]
        if organization
        else DEFAULT_HEARTBEAT_INTERVAL_S,
    )
    await ChargingStation.insert(station).on_conflict(
        target=ChargingStation.identity, action="DO NOTHING"
    )
    record = await get_station_record(identity)
    assert record is not None
    return record


# Connection history, for uptime: station-level status changes with these two statuses.
CONNECTED, DISCONNECTED = "Connected", "Disconnected"


async def record_connections(station_ids: Sequence[int], status: str, at: datetime) -> None:
    await StatusChange.insert(
        *(
            StatusChange(station=station_id, connector=None, status=status, occurred_at=at)
            for station_id in station_ids
        )
    )


async def set_password_hash(station_id: int, password_hash: str, *, was_pending: bool) -> None:
    """Keep the station's password as `password_hash`; `was_pending`: it is the new one it
    was sent, so the rotation is complete."""
    changes: dict[Any, Any] = {ChargingStation.password_hash: password_hash}
    if was_pending:
        changes[ChargingStation.pending_password_hash] = None
    await ChargingStation.update(changes).where(ChargingStation.id == station_id)


async def pending_password_hash(station_id: int) -> str | None:
    row = (
        await ChargingStation.select(ChargingStation.pending_password_hash)
        .where(ChargingStation.id == station_id)
        .first()
    )
    return row["pending_password_hash"] if row else None


async def set_pending_password_hash(
    station_id: int, password_hash: str | None, *, replacing: str | None = None
) -> None:
    """Set (or, with None, withdraw) the password sent to the station; with `replacing`, only
    while that is still the pending one (a later rotation wins)."""
    query = ChargingStation.update({ChargingStation.pending_password_hash: password_hash}).where(
        ChargingStation.id == station_id
    )
    if replacing is not None:
        query = query.where(ChargingStation.pending_password_hash == replacing)
    await query


async def set_presence(station_id: int, *, connected: bool, protocol: str, node_id: str) -> None:
    now = utcnow()
    await record_connections([station_id], CONNECTED if connected else DISCONNECTED, now)
    await ChargingStation.update(
        {
            ChargingStation.connected: connected,
            ChargingStation.protocol: protocol,
            ChargingStation.node_id: node_id,
            ChargingStation.last_seen_at: now,
            ChargingStation.updated_at: now,
        }
    ).where(ChargingStation.id == station_id)


async def clear_presence(station_ids: Sequence[int], node_id: str) -> list[int]:
    """Mark offline those of these stations this node still holds; which ones it did (the
    others have connected elsewhere meanwhile, or were offline already)."""
    if not station_ids:
        return []
    now = utcnow()
    rows = (
        await ChargingStation.update(
            {ChargingStation.connected: False, ChargingStation.updated_at: now}
        )
        .where(ChargingStation.id.is_in(list(station_ids)) & (ChargingStation.node_id == node_id))
        .where(ChargingStation.connected == True)  # noqa: E712
        .returning(ChargingStation.id)
    )
    cleared = sorted(int(row["id"]) for row in rows)
    if cleared:
        await record_connections(cleared, DISCONNECTED, now)
    return cleared


async def touch(station_ids: Sequence[int]) -> None:
    """Record that these stations were heard from now."""
    await ChargingStation.update({ChargingStation.last_seen_at: utcnow()}).where(
        ChargingStation.id.is_in(list(station_ids))
    )


async def record_boot(station_id: int, boot: BootInfo, status: str) -> int:
    """Store the boot; the station's heartbeat interval."""
    now = utcnow()
    values: dict[Any, Any] = {
        ChargingStation.last_boot_at: now,
        ChargingStation.last_seen_at: now,
        ChargingStation.updated_at: now,
    }
    fields = {
        ChargingStation.vendor: boot.vendor,
        ChargingStation.model: boot.model,
        ChargingStation.serial_number: boot.serial_number,
        ChargingStation.firmware_version: boot.firmware_version,
        ChargingStation.iccid: boot.iccid,
        ChargingStation.imsi: boot.imsi,
        ChargingStation.meter_type: boot.meter_type,
        ChargingStation.meter_serial_number: boot.meter_serial_number,
    }
    # Over-long vendor strings are cut to the column, never refused.
    for column, value in fields.items():
        if value is not None:
            values[column] = value[: column.length]
    rows = (
        await ChargingStation.update(values)
        .where(ChargingStation.id == station_id)
        .returning(ChargingStation.heartbeat_interval)
    )
    return int(rows[0]["heartbeat_interval"])


async def add_security_event(
    *,
    station_id: int | None,
    identity: str,
    kind: str,
    tech_info: str | None,
    source: str,
    occurred_at: datetime,
) -> None:
    await SecurityEvent.insert(
        SecurityEvent(
            station=station_id,
            identity=identity[:64],
            type=kind[:64],
            tech_info=tech_info,
            source=source,
            occurred_at=occurred_at,
        )
    )


async def repeat_security_event(
    *,
    station_id: int | None,
    identity: str,
    kind: str,
    tech_info: str | None,
    since: datetime,
    at: datetime,
) -> bool:
    """Count one more occurrence on the latest event we wrote since `since` of this kind
    about this station, for the same reason (about any unknown station, whatever the reason,
    when `station_id` is None); whether there was one."""
    about = (
        (SecurityEvent.station.is_null(),)
        if station_id is None
        else (SecurityEvent.station == station_id, SecurityEvent.tech_info == tech_info)
    )
    latest = (
        await SecurityEvent.select(SecurityEvent.id)
        .where(
            *about,
            SecurityEvent.type == kind[:64],
            SecurityEvent.source == "server",
            SecurityEvent.occurred_at >= since,
        )
        .order_by(SecurityEvent.id, ascending=False)
        .first()
    )
    if latest is None:
        return False
    # The unknown station seen last, in case it is the one an operator is looking for.
    changes: dict[Any, Any] = {
        SecurityEvent.repeats: SecurityEvent.repeats + 1,
        SecurityEvent.last_occurred_at: at,
    }
    if station_id is None:
        changes[SecurityEvent.tech_info] = f"{tech_info} (latest: {identity[:64]})"
    await SecurityEvent.update(changes).where(SecurityEvent.id == latest["id"])
    return True


async def prune_security_events(before: datetime) -> int:
    """Delete security events that happened before `before`; how many."""
    deleted = (
        await SecurityEvent.delete()
        .where(SecurityEvent.occurred_at < before)
        .returning(SecurityEvent.id)
    )
    return len(deleted)


async def next_request_id(station_id: int) -> int:
    """The station's next request id: one atomic increment, so concurrent commands (on any
    node) never share one; after 2^31 - 1, OCPP's largest, it starts again at 1."""
    rows = await ChargingStation.raw(
        "UPDATE charging_station SET last_request_id = last_request_id % {} + 1 "
        "WHERE id = {} RETURNING last_request_id",
        LARGEST_REQUEST_ID,
        station_id,
    )
    return int(rows[0]["last_request_id"])


async def set_transfer_status(station_id: int, kind: str, status: str, at: datetime) -> None:
    """Progress of a firmware update (`kind` firmware) or diagnostics/log upload (diagnostics)."""
    columns = {
        "firmware": (ChargingStation.firmware_status, ChargingStation.firmware_status_at),
        "diagnostics": (ChargingStation.diagnostics_status, ChargingStation.diagnostics_status_at),
    }
    status_column, time_column = columns[kind]
    await ChargingStation.update({status_column: status[:32], time_column: at}).where(
        ChargingStation.id == station_id
    )


async def set_reservation_status(station_id: int, reservation_id: int, status: str) -> int:
    """The number of reservations updated (0: the station reported one we do not know)."""
    updated = (
        await Reservation.update({Reservation.status: status})
        .where((Reservation.station == station_id) & (Reservation.reservation_id == reservation_id))
        .returning(Reservation.id)
    )
    return len(updated)


async def save_reservation(
    organization_id: int,
    station_id: int,
    evse_row_id: int | None,
    reservation_id: int,
    id_tag: str,
    expires_at: datetime,
) -> None:
    """A reservation the station accepted; one with the same id replaces the old one."""
    token = (
        await IdToken.select(IdToken.id)
        .where((IdToken.organization == organization_id) & (IdToken.uid == id_tag))
        .first()
    )
    await Reservation.delete().where(
        (Reservation.station == station_id) & (Reservation.reservation_id == reservation_id)
    )
    await Reservation.insert(
        Reservation(
            organization=organization_id,
            station=station_id,
            evse=evse_row_id,
            reservation_id=reservation_id,
            id_token=token["id"] if token else None,
            id_tag=id_tag,
            expires_at=expires_at,
            status="Active",
        )
    )


_RESERVATION_COLUMNS = (
    Reservation.id,
    Reservation.station,
    Reservation.evse.evse_id.as_alias("evse_number"),
    Reservation.reservation_id,
    Reservation.id_tag,
    Reservation.expires_at,
    Reservation.status,
    Reservation.created_at,
)


def _reservation(row: dict[str, Any]) -> ReservationView:
    status = row["status"]
    if status == "Active" and row["expires_at"] <= utcnow():
        status = "Expired"  # the station lets it lapse by itself and may not tell us
    return ReservationView(
        id=row["id"],
        station_id=row["station"],
        evse_id=row["evse_number"],
        reservation_id=row["reservation_id"],
        id_tag=row["id_tag"],
        expires_at=row["expires_at"],
        status=status,
        created_at=row["created_at"],
    )


async def page_reservations(
    organization_id: int, filters: ReservationFilter, request: PageRequest
) -> Page[ReservationView]:
    """Reservations, newest first."""
    query = Reservation.select(*_RESERVATION_COLUMNS).where(
        Reservation.organization == organization_id
    )
    if filters.station_id is not None:
        query = query.where(Reservation.station == filters.station_id)
    if filters.status == "Active":
        query = query.where((Reservation.status == "Active") & (Reservation.expires_at > utcnow()))
    elif filters.status == "Expired":
        query = query.where(
            (Reservation.status == "Expired")
            | ((Reservation.status == "Active") & (Reservation.expires_at <= utcnow()))
        )
    elif filters.status is not None:
        query = query.where(Reservation.status == filters.status)
    return await page_by_id(query, Reservation.id, request, _reservation, newest_first=True)


async def reservations_by_ids(
    organization_id: int, reservation_ids: Sequence[int]
) -> list[ReservationView]:
    rows = await Reservation.select(*_RESERVATION_COLUMNS).where(
        (Reservation.organization == organization_id) & Reservation.id.is_in(list(reservation_ids))
    )
    return [_reservation(row) for row in rows]


async def tag_reservation(
    station_id: int, reservation_id: int, partner_id: int, reference: str
) -> None:
    await Reservation.update(
        {Reservation.partner: partner_id, Reservation.partner_reference: reference}
    ).where((Reservation.station == station_id) & (Reservation.reservation_id == reservation_id))


async def partner_reservation(partner_id: int, reference: str) -> ReservationView | None:
    """The partner's latest reservation with this reference of its own."""
    row = await (
        Reservation.select(*_RESERVATION_COLUMNS)
        .where((Reservation.partner == partner_id) & (Reservation.partner_reference == reference))
        .order_by(Reservation.id, ascending=False)
        .first()
    )
    return _reservation(row) if row else None


async def ensure_connector(station_id: int, evse_id: int, connector_id: int) -> tuple[int, int]:
    """(evse row id, connector row id), created on first sight: stations report their own.
    Two connections of one station may both see it first (a reconnect racing the old one)."""
    evse = (
        await Evse.select(Evse.id)
        .where((Evse.station == station_id) & (Evse.evse_id == evse_id))
        .first()
    )
    if evse is None:
        await Evse.insert(Evse(station=station_id, evse_id=evse_id)).on_conflict(
            target=(Evse.station, Evse.evse_id), action="DO NOTHING"
        )
        evse = (
            await Evse.select(Evse.id)
            .where((Evse.station == station_id) & (Evse.evse_id == evse_id))
            .first()
        )
    assert evse is not None
    connector = (
        await Connector.select(Connector.id)
        .where((Connector.evse == evse["id"]) & (Connector.connector_id == connector_id))
        .first()
    )
    if connector is None:
        await Connector.insert(
            Connector(station=station_id, evse=evse["id"], connector_id=connector_id)
        ).on_conflict(target=(Connector.evse, Connector.connector_id), action="DO NOTHING")
        connector = (
            await Connector.select(Connector.id)
            .where((Connector.evse == evse["id"]) & (Connector.connector_id == connector_id))
            .first()
        )
    assert connector is not None
    return int(evse["id"]), int(connector["id"])


async def record_status(
    station_id: int, connector_row_id: int | None, report: StatusReport
) -> None:
    """Set the live status and append it to the history (plain SQL: every status goes here)."""
    if connector_row_id is None:
        await ChargingStation.raw(
            "UPDATE charging_station SET status = {}, error_code = {}, last_seen_at = {} "
            "WHERE id = {}",
            report.status,
            report.error_code,
            utcnow(),
            station_id,
        )
    else:
        await Connector.raw(
            "UPDATE connector SET status = {}, error_code = {}, vendor_error_code = {}, "
            "info = {}, status_updated_at = {} WHERE id = {}",
            report.status,
            report.error_code,
            report.vendor_error_code,
            report.info,
            report.occurred_at,
            connector_row_id,
        )
    await StatusChange.raw(
        "INSERT INTO status_change (station, connector, status, error_code, vendor_error_code, "
        "info, occurred_at, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
        station_id,
        connector_row_id,
        report.status,
        report.error_code,
        report.vendor_error_code,
        report.info,
        report.occurred_at,
        utcnow(),
    )


async def connected_stations(
    *, silent_since: datetime | None = None, node_id: str | None = None
) -> list[dict[str, Any]]:
    """Connected stations: those last heard from before `silent_since` (candidates for
    offline), or those a node holds."""
    where: Combinable = ChargingStation.connected == True  # noqa: E712
    if silent_since is not None:
        where &= ChargingStation.last_seen_at < silent_since
    if node_id is not None:
        where &= ChargingStation.node_id == node_id
    return list(
        await ChargingStation.select(
            ChargingStation.id,
            ChargingStation.organization,
            ChargingStation.identity,
            ChargingStation.node_id,
            ChargingStation.heartbeat_interval,
            ChargingStation.last_seen_at,
        ).where(where)
    )


# Stations per statement when many go offline at once: a statement takes at most 32,767
# parameters, and the connection history has several per station.
OFFLINE_CHUNK = 1_000


async def mark_offline(station_ids: Sequence[int]) -> None:
    now = utcnow()
    for start in range(0, len(station_ids), OFFLINE_CHUNK):
        chunk = list(station_ids[start : start + OFFLINE_CHUNK])
        await ChargingStation.update(
            {ChargingStation.connected: False, ChargingStation.updated_at: now}
        ).where(ChargingStation.id.is_in(chunk))
        await record_connections(chunk, DISCONNECTED, now)


_CONFIGURATION_KEY = (
    "station, component, component_instance, evse_id, connector_id, variable, "
    "variable_instance, attribute_type"
)


async def upsert_configuration(
    station_id: int, entries: Sequence[ConfigurationEntry], *, values_only: bool = False
) -> None:
    """Store reported configuration, replacing earlier reports of the same variable.

    `values_only` keeps what is known of a variable besides its value: an event reports only
    the value, not whether the variable is read-only or its characteristics."""
    now = utcnow()
    updated = "value, updated_at" if values_only else "value, readonly, characteristics, updated_at"
    assignments = ", ".join(f"{column} = excluded.{column}" for column in updated.split(", "))
    for entry in entries:
        await StationConfiguration.raw(
            f"INSERT INTO station_configuration ({_CONFIGURATION_KEY}, value, readonly, "  # noqa: S608
            "characteristics, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
            f"ON CONFLICT ({_CONFIGURATION_KEY}) DO UPDATE SET {assignments}",
            station_id,
            entry.component[:64],
            entry.component_instance[:64],
            entry.evse_id,
            entry.connector_id,
            entry.variable[:128],
            entry.variable_instance[:64],
            entry.attribute_type[:8],
            entry.value,
            entry.readonly,
            json.dumps(entry.characteristics) if entry.characteristics is not None else None,
            now,
        )


async def set_configured_value(
    station_id: int, components: Sequence[str], variable: str, value: str
) -> None:
    """A new value of a variable already in the station's stored configuration, under
    whichever of these component names it was reported."""
    await StationConfiguration.update(
        {StationConfiguration.value: value, StationConfiguration.updated_at: utcnow()}
    ).where(
        (StationConfiguration.station == station_id)
        & StationConfiguration.component.is_in(list(components))
        & (StationConfiguration.variable == variable)
        & (StationConfiguration.attribute_type == "Actual")
    )


async def configuration_of(station_id: int) -> list[ConfigurationEntry]:
    rows = (
        await StationConfiguration.select()
        .where(StationConfiguration.station == station_id)
        .order_by(StationConfiguration.component)
        .order_by(StationConfiguration.variable)
    )
    return [
        ConfigurationEntry(
            variable=row["variable"],
            value=row["value"],
            component=row["component"],
            component_instance=row["component_instance"],
            evse_id=row["evse_id"],
            connector_id=row["connector_id"],
            variable_instance=row["variable_instance"],
            attribute_type=row["attribute_type"],
            readonly=row["readonly"],
            characteristics=json.loads(row["characteristics"])
            if isinstance(row["characteristics"], str)
            else row["characteristics"],
        )
        for row in rows
    ]


def _site_clause(site_id: int | None, column: str = "s.site") -> str:
    return f" AND {column} = {{}}" if site_id is not None else ""


async def occupied_by_charging_state(
    organization_id: int, site_id: int | None
) -> list[dict[str, Any]]:
    """(charging_state, count) over the Occupied connectors of the organization's connected
    stations (or one site's): a 2.0.1 Occupied connector reads as its session's chargingState,
    one value per connector, so a connector with two running sessions still counts once."""
    arguments: list[Any] = [organization_id] + ([site_id] if site_id is not None else [])
    return list(
        await Connector.raw(
            "SELECT (SELECT MAX(x.charging_state) FROM charging_session x "  # noqa: S608
            "WHERE x.connector = c.id AND x.state = 'active') AS charging_state, "
            "COUNT(*) AS count FROM connector c JOIN charging_station s ON s.id = c.station "
            "WHERE c.status = 'Occupied' AND s.connected AND s.organization = {}"
            + _site_clause(site_id)
            + " GROUP BY 1",
            *arguments,
        )
    )


_STATION_UPDATABLE = {
    "name": ChargingStation.name,
    "site_id": ChargingStation.site,
    "security_profile": ChargingStation.security_profile,
    "password_hash": ChargingStation.password_hash,
    "free_vend": ChargingStation.free_vend,
    "assumed_protocol": ChargingStation.assumed_protocol,
    "registration_status": ChargingStation.registration_status,
    "heartbeat_interval": ChargingStation.heartbeat_interval,
}


async def update_station(organization_id: int, identity: str, values: dict[str, Any]) -> bool:
    """Whether a station of this organization was updated. A password set by hand voids a
    rotation under way."""
    changes: dict[Any, Any] = {_STATION_UPDATABLE[name]: value for name, value in values.items()}
    if "password_hash" in values:
        changes[ChargingStation.pending_password_hash] = None
    if "site_id" in values:  # the station leaves one Location and joins another
        before = await (
            ChargingStation.select(ChargingStation.id, ChargingStation.site)
            .where(
                (ChargingStation.organization == organization_id)
                & (ChargingStation.identity == identity)
            )
            .first()
        )
        if before is not None and before["site"] != values["site_id"]:
            if before["site"] is not None:
                await _depart([before["id"]], before["site"])
            if values["site_id"] is not None:
                await _come_back(before["id"], values["site_id"])
        moved = {values["site_id"], before["site"] if before else None} - {None}
        await touch_sites([site for site in moved if site is not None])
    updated = (
        await ChargingStation.update(changes)
        .where(
            (ChargingStation.organization == organization_id)
            & (ChargingStation.identity == identity)
        )
        .returning(ChargingStation.id)
    )
    return bool(updated)


async def has_sessions(station_id: int) -> bool:
    return await ChargingSession.exists().where(ChargingSession.station == station_id)


async def delete_station(station_id: int) -> None:
    row = (
        await ChargingStation.select(ChargingStation.site)
        .where(ChargingStation.id == station_id)
        .first()
    )
    if row is not None and row["site"] is not None:
        await _depart([station_id], row["site"])
        await touch_sites([row["site"]])
    await ChargingStation.delete().where(ChargingStation.id == station_id)


async def _depart(station_ids: Sequence[int], site_id: int) -> None:
    """The stations' EVSEs leave the site: what they were is kept there."""
    if not station_ids:
        return
    evses = await Evse.select(Evse.id, Evse.evse_uid).where(Evse.station.is_in(list(station_ids)))
    plugs = (
        await Connector.select(
            Connector.evse,
            Connector.connector_id,
            Connector.standard,
            Connector.format,
            Connector.power_type,
            Connector.max_voltage,
            Connector.max_amperage,
            Connector.max_power_w,
        )
        .where(Connector.station.is_in(list(station_ids)))
        .order_by(Connector.connector_id)
    )
    departed = [
        DepartedEvse(
            site=site_id,
            evse_row=evse["id"],
            evse_uid=evse["evse_uid"],
            connectors=[
                {name: value for name, value in plug.items() if name != "evse"}
                for plug in plugs
                if plug["evse"] == evse["id"]
            ],
            departed_at=utcnow(),
        )
        for evse in evses
    ]
    if departed:
        await DepartedEvse.insert(*departed)


async def _come_back(station_id: int, site_id: int) -> None:
    """The station's EVSEs are at the site (again): none of them is gone from it."""
    await DepartedEvse.delete().where(
        (DepartedEvse.site == site_id)
        & DepartedEvse.evse_row.is_in(Evse.select(Evse.id).where(Evse.station == station_id))
    )


async def departed_evses(site_ids: Sequence[int]) -> list[DepartedEvseView]:
    """The EVSEs that left these sites, oldest first."""
    if not site_ids:
        return []
    rows = (
        await DepartedEvse.select()
        .where(DepartedEvse.site.is_in(list(site_ids)))
        .order_by(DepartedEvse.id)
        .output(load_json=True)
    )
    return [
        DepartedEvseView(
            site_id=row["site"],
            evse_row=row["evse_row"],
            evse_uid=row["evse_uid"],
            connectors=tuple(PlugSnapshot(**plug) for plug in row["connectors"]),
            departed_at=row["departed_at"],
        )
        for row in rows
    ]


async def create_site(organization_id: int, values: dict[str, Any]) -> SiteView:
    site = Site(organization=organization_id, **values)
    await site.save()
    found = await sites_by_ids(organization_id, [int(site.id)])
    return found[0]


async def update_site(
    organization_id: int, site_id: int, values: dict[str, Any]
) -> SiteView | None:
    if values:
        changes = {getattr(Site, name): value for name, value in values.items()}
        if set(values) - GRID_FIELDS:
            changes[Site.updated_at] = utcnow()
        await Site.update(changes).where(
            (Site.organization == organization_id) & (Site.id == site_id) & _NOT_DELETED
        )
    found = await sites_by_ids(organization_id, [site_id])
    return found[0] if found else None


def _locatable(organization_id: int) -> Combinable:
    """Sites partners can be told about: an address, a city, coordinates and a station (or
    an EVSE that left, which they are told is removed)."""
    return (
        (Site.organization == organization_id)
        & Site.address.is_not_null()
        & Site.city.is_not_null()
        & Site.latitude.is_not_null()
        & Site.longitude.is_not_null()
        & (
            Site.id.is_in(
                ChargingStation.select(ChargingStation.site).where(
                    (ChargingStation.organization == organization_id)
                    & ChargingStation.site.is_not_null()
                )
            )
            | Site.id.is_in(DepartedEvse.select(DepartedEvse.site))
        )
    )


async def locatable_sites(organization_id: int) -> list[tuple[int, datetime]]:
    """Every locatable site's id and when the site itself changed, in the order they were
    added."""
    rows = (
        await Site.select(Site.id, Site.created_at, Site.updated_at)
        .where(_locatable(organization_id))
        .order_by(Site.id)
    )
    return [(row["id"], row["updated_at"] or row["created_at"]) for row in rows]


async def locatable_sites_changed(
    organization_id: int, since: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Locatable sites that changed themselves (or got their first station) after `since`:
    id and when, oldest change first."""
    rows = await Site.select(Site.id, Site.created_at, Site.updated_at).where(
        _locatable(organization_id)
        & ((Site.updated_at > since) | (Site.updated_at.is_null() & (Site.created_at > since)))
    )
    changed = sorted(
        ((row["id"], row["updated_at"] or row["created_at"]) for row in rows),
        key=lambda each: (each[1], each[0]),
    )
    return changed[:limit]


async def touch_sites(site_ids: Sequence[int]) -> None:
    """These sites changed as partners see them (a station came or went)."""
    if site_ids:
        await Site.update({Site.updated_at: utcnow()}).where(Site.id.is_in(list(site_ids)))


async def is_locatable(organization_id: int, site_id: int) -> bool:
    return await Site.exists().where(_locatable(organization_id) & (Site.id == site_id))


async def latest_statuses_by_site(organization_id: int) -> dict[int, datetime]:
    """Per site, when one of its connectors last reported a status."""
    latest = Max(Connector.status_updated_at, alias="latest")
    site = Connector.station.site.as_alias("site")
    rows = (
        await Connector.select(site, latest)
        .where(
            (Connector.station.organization == organization_id)
            & Connector.station.site.is_not_null()
            & Connector.status_updated_at.is_not_null()
        )
        .group_by(Connector.station.site)
    )
    # An aggregate keeps no column type: SQLite gives the stored text back.
    return {
        row["site"]: parse_timestamp(row["latest"])
        if isinstance(row["latest"], str)
        else row["latest"]
        for row in rows
        if row["latest"] is not None
    }


async def recorded_statuses_after(
    organization_id: int, after_id: int, limit: int
) -> list[RecordedStatus]:
    """The organization's status history entries after `after_id`, oldest first."""
    rows = (
        await StatusChange.select(
            StatusChange.id, StatusChange.station, StatusChange.connector, StatusChange.received_at
        )
        .where(
            (StatusChange.id > after_id) & (StatusChange.station.organization == organization_id)
        )
        .order_by(StatusChange.id)
        .limit(limit)
    )
    return [
        RecordedStatus(row["id"], row["station"], row["connector"], row["received_at"])
        for row in rows
    ]


async def latest_recorded_status_id() -> int:
    row = (
        await StatusChange.select(StatusChange.id)
        .order_by(StatusChange.id, ascending=False)
        .first()
    )
    return int(row["id"]) if row else 0


async def delete_site(organization_id: int, site_id: int) -> bool:
    """Delete a site; its stations stay, without a site. One roaming partners may know (a
    Location) is kept for them, marked deleted, with its EVSEs departed: OCPI never deletes a
    Location, partners are told its EVSEs are REMOVED instead."""
    mine = (Site.organization == organization_id) & (Site.id == site_id) & _NOT_DELETED
    if not await Site.exists().where(mine):
        return False
    if not await Site.exists().where(_locatable(organization_id) & (Site.id == site_id)):
        await Site.delete().where(mine)
        return True
    stations = await ChargingStation.select(ChargingStation.id).where(
        ChargingStation.site == site_id
    )
    await _depart([station["id"] for station in stations], site_id)
    await ChargingStation.update({ChargingStation.site: None}).where(
        ChargingStation.site == site_id
    )
    now = utcnow()
    await Site.update({Site.deleted_at: now, Site.updated_at: now}).where(mine)
    return True


async def page_message_log(
    organization_id: int, identity: str, request: PageRequest
) -> Page[LoggedFrame]:
    """A station's frames, newest first (by the identity index)."""
    log = OcppMessageLog
    query = log.select(
        log.id,
        log.direction,
        log.message_type,
        log.message_id,
        log.action,
        log.frame,
        log.created_at,
    ).where((log.identity == identity) & (log.station.organization == organization_id))
    key = (log.created_at, log.id)
    return await page_by_key(query, key, request, lambda row: LoggedFrame(**row), descending=True)
