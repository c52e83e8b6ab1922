"""Use cases of the stations domain: the only entry for adapters."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app import outbox, tally
from app.auth.access import Permission, require
from app.auth.models import Principal
from app.events import (
    ConnectorRemoved,
    ConnectorStatusChanged,
    EventBus,
    FirmwareStatusReported,
    ReportedVariableEvent,
    SecurityEventRaised,
    StationBooted,
    StationConnectionChanged,
    StationEventsReported,
    StationStatusChanged,
)
from app.heartbeat import MIN_HEARTBEAT_INTERVAL_S
from app.pagination import Page, PageRequest
from app.stations import repository
from app.stations.certificates import CsrRefused, StationCA, sign_station_csr
from app.stations.connector_status import normalise
from app.stations.models import (
    SEND_SIGNED_CERTIFICATE,
    STATION_CERTIFICATE,
    BootAnswer,
    BootInfo,
    ConfigurationEntry,
    ConnectorView,
    DepartedEvseView,
    Disconnected,
    EvseState,
    EvseView,
    LoggedFrame,
    NetworkCounts,
    RecordedStatus,
    ReservationFilter,
    ReservationView,
    SigningRefusal,
    SiteNetwork,
    SiteView,
    StationEvent,
    StationFilter,
    StationOrder,
    StationRecord,
    StationView,
    StatusReport,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork
from db.group_commit import StatusWrite

logger = logging.getLogger(__name__)


async def page_sites(principal: Principal, request: PageRequest | None = None) -> Page[SiteView]:
    """Sites in creation order."""
    require(principal, Permission.READ_STATIONS)
    return await repository.page_sites(principal.organization_id, request or PageRequest())


async def page_stations(
    principal: Principal,
    filters: StationFilter | None = None,
    order: StationOrder = StationOrder.IDENTITY,
    request: PageRequest | None = None,
) -> Page[StationView]:
    """A page of stations for a dashboard: filtered, sorted, keyset-paginated."""
    require(principal, Permission.READ_STATIONS)
    filters = filters or StationFilter()
    page = await repository.page_stations(
        principal.organization_id, filters, order, request or PageRequest()
    )
    if not _tallied(filters):
        return page
    return dataclasses.replace(
        page, count=functools.partial(_tallied_count, principal.organization_id, filters)
    )


def _tallied(filters: StationFilter) -> bool:
    """The tallies hold stations by site, connection and reported status: a list narrowed by
    nothing else is counted there instead of row by row."""
    if filters.site_id is not None and filters.site_id < 1:
        return False  # site 0 is the organization's tally
    return (
        dataclasses.replace(filters, site_id=None, status=None, connected=None) == StationFilter()
    )


async def _tallied_count(organization_id: int, filters: StationFilter) -> int:
    return sum(
        figure.quantity
        for figure in await tally.figures(organization_id, filters.site_id, "station")
        if filters.connected in (None, figure.online)
        and filters.status in (None, normalise(figure.label, connected=figure.online))
    )


async def stations_by_ids(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, StationView]:
    require(principal, Permission.READ_STATIONS)
    found = await repository.stations_by_ids(principal.organization_id, station_ids)
    return {station.id: station for station in found}


async def station_by_id(organization_id: int, station_id: int) -> StationView | None:
    """One of the organization's stations, for the domain's own use."""
    found = await repository.stations_by_ids(organization_id, [station_id])
    return found[0] if found else None


async def get_station(principal: Principal, identity: str) -> StationView | None:
    """The station with this OCPP identity, if any."""
    require(principal, Permission.READ_STATIONS)
    return await repository.get_station_by_identity(principal.organization_id, identity)


async def station_of_organization(organization_id: int, identity: str) -> StationView | None:
    """The station with this identity in this organization, for the system's own work."""
    return await repository.get_station_by_identity(organization_id, identity)


async def record_heartbeat_interval(uow: UnitOfWork, station: StationRecord, seconds: int) -> None:
    """The station accepted this heartbeat interval: it answers its boots from now on and
    tells when it is silent too long; its stored configuration says so too."""
    async with uow:
        await repository.update_station(
            station.organization_id, station.identity, {"heartbeat_interval": seconds}
        )
        await repository.set_configured_value(
            station.id, ("", "OCPPCommCtrlr"), "HeartbeatInterval", str(seconds)
        )


async def station_ids_of_site(principal: Principal, site_id: int) -> set[int]:
    """The ids of a site's stations (for filtering live events by site)."""
    require(principal, Permission.READ_STATIONS)
    stations = await repository.stations_by_site_ids(principal.organization_id, [site_id])
    return {station.id for station in stations}


async def network_counts(principal: Principal, site_id: int | None = None) -> NetworkCounts:
    """How many stations and connectors are in which state, from the tallies; Occupied
    connectors are refined by their sessions' charging state as they are now."""
    require(principal, Permission.READ_NETWORK)
    by_station = await tally.figures(principal.organization_id, site_id, "station")
    by_connector = await tally.figures(principal.organization_id, site_id, "connector")
    stations_by_status: dict[str, int] = defaultdict(int)
    for figure in by_station:
        station_status = normalise(figure.label, connected=figure.online)
        stations_by_status[station_status.value] += figure.quantity
    # Connectors of an offline station count as OFFLINE, so the figures agree with the
    # online count; 1.6 and 2.0.1 values are counted under one API status.
    connectors_by_status: dict[str, int] = defaultdict(int)
    occupied = 0
    for figure in by_connector:
        if figure.online and figure.label == "Occupied":
            occupied += figure.quantity
            continue
        status = normalise(figure.label, connected=figure.online)
        connectors_by_status[status.value] += figure.quantity
    if occupied:
        for row in await repository.occupied_by_charging_state(principal.organization_id, site_id):
            status = normalise("Occupied", charging_state=row["charging_state"])
            connectors_by_status[status.value] += int(row["count"])
    return NetworkCounts(
        stations=sum(figure.quantity for figure in by_station),
        stations_online=sum(figure.quantity for figure in by_station if figure.online),
        stations_by_status=dict(stations_by_status),
        connectors_by_status=dict(connectors_by_status),
    )


async def message_log(
    principal: Principal, identity: str, request: PageRequest
) -> Page[LoggedFrame]:
    """A station's raw frames, newest first, for troubleshooting (operators: frames carry id
    tokens)."""
    require(principal, Permission.OPERATE)
    return await repository.page_message_log(principal.organization_id, identity, request)


# Batch loading for the API: the parents were read with the same principal's permission.


async def sites_by_ids(principal: Principal, site_ids: Sequence[int]) -> dict[int, SiteView]:
    """Sites keyed by id."""
    require(principal, Permission.READ_STATIONS)
    sites = await repository.sites_by_ids(principal.organization_id, site_ids)
    return {site.id: site for site in sites}


async def stations_by_site_ids(
    principal: Principal, site_ids: Sequence[int]
) -> dict[int, list[StationView]]:
    """Each site's stations."""
    grouped: dict[int, list[StationView]] = defaultdict(list)
    for station in await repository.stations_by_site_ids(principal.organization_id, site_ids):
        if station.site_id is not None:
            grouped[station.site_id].append(station)
    return grouped


async def connectors_by_ids(
    principal: Principal, connector_ids: Sequence[int]
) -> dict[int, ConnectorView]:
    require(principal, Permission.READ_STATIONS)
    found = await repository.connectors_by_ids(principal.organization_id, connector_ids)
    return {connector.id: connector for connector in found}


async def connectors_by_station_ids(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, list[ConnectorView]]:
    """Each station's connectors ordered by EVSE and connector number."""
    grouped: dict[int, list[ConnectorView]] = defaultdict(list)
    connectors = await repository.connectors_by_station_ids(principal.organization_id, station_ids)
    for connector in connectors:
        grouped[connector.station_id].append(connector)
    return grouped


async def locatable_site_ids(
    organization_id: int, changed_from: datetime | None = None, changed_to: datetime | None = None
) -> list[int]:
    """The sites roaming partners can be told about (an address, a city, coordinates and a
    station), in the order they were added; with a window, only those whose last change
    (the site, or a status reported there) falls in [changed_from, changed_to)."""
    sites = await repository.locatable_sites(organization_id)
    if changed_from is None and changed_to is None:
        return [site_id for site_id, _ in sites]
    statuses = await repository.latest_statuses_by_site(organization_id)
    found = []
    for site_id, changed in sites:
        latest = max(changed, statuses.get(site_id, changed))
        if (changed_from is None or latest >= changed_from) and (
            changed_to is None or latest < changed_to
        ):
            found.append(site_id)
    return found


async def locatable_sites_changed(
    organization_id: int, since: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Sites partners can be told about whose own data changed after `since` (their
    address, opening hours, ..., a station placed there or moved away; statuses aside): id
    and when, oldest change first."""
    return await repository.locatable_sites_changed(organization_id, since, limit)


async def is_locatable(organization_id: int, site_id: int) -> bool:
    """Whether roaming partners can be told about this site."""
    return await repository.is_locatable(organization_id, site_id)


async def site_networks(organization_id: int, site_ids: Sequence[int]) -> list[SiteNetwork]:
    """These sites with their stations, EVSEs and connectors, in the order asked for."""
    if not site_ids:
        return []
    # A deleted site partners knew is still their Location (its EVSEs REMOVED).
    found = await repository.sites_by_ids(organization_id, site_ids, deleted_too=True)
    sites = {site.id: site for site in found}
    if not sites:
        return []
    stations = await repository.stations_by_site_ids(organization_id, list(sites))
    evses = await repository.evses_by_site_ids(organization_id, list(sites))
    connectors = await repository.connectors_by_site_ids(organization_id, list(sites))
    departed: dict[int, list[DepartedEvseView]] = defaultdict(list)
    for each in await repository.departed_evses(list(sites)):
        departed[each.site_id].append(each)
    site_of = {station.id: station.site_id for station in stations}
    by_site: dict[int | None, tuple[list[Any], list[Any], list[Any]]] = defaultdict(
        lambda: ([], [], [])
    )
    for station in stations:
        by_site[station.site_id][0].append(station)
    for evse in evses:
        by_site[site_of[evse.station_id]][1].append(evse)
    for connector in connectors:
        by_site[site_of[connector.station_id]][2].append(connector)
    return [
        SiteNetwork(sites[site_id], *by_site[site_id], departed=departed[site_id])
        for site_id in site_ids
        if site_id in sites
    ]


async def recorded_statuses_after(
    organization_id: int, after_id: int, limit: int
) -> list[RecordedStatus]:
    """What the organization's stations reported after a point of the status history (their
    connectors' and their own statuses, their connections), oldest first."""
    return await repository.recorded_statuses_after(organization_id, after_id, limit)


async def latest_recorded_status_id() -> int:
    """Where the status history stands now."""
    return await repository.latest_recorded_status_id()


async def evse_states(organization_id: int, recorded: Sequence[RecordedStatus]) -> list[EvseState]:
    """The EVSEs these entries concern, as they are now, at locatable sites only: a
    connector's EVSE, or every EVSE of a station whose own status or connection changed."""
    stations = await repository.stations_by_ids(
        organization_id, list({each.station_id for each in recorded})
    )
    site_ids = list({station.site_id for station in stations if station.site_id is not None})
    if not site_ids:
        return []
    whole_stations = {each.station_id for each in recorded if each.connector_id is None}
    touched_connectors = {each.connector_id for each in recorded if each.connector_id is not None}
    states = []
    for network in await site_networks(organization_id, site_ids):
        if not network.site.locatable:
            continue
        stations_here = {station.id: station for station in network.stations}
        for evse in network.evses:
            connectors = network.connectors_of(evse)
            touched = evse.station_id in whole_stations or any(
                each.id in touched_connectors for each in connectors
            )
            if touched and connectors:
                states.append(
                    EvseState(network.site, stations_here[evse.station_id], evse, connectors)
                )
    return states


async def site_of_station(station_id: int) -> SiteView | None:
    """The station's site (its time zone prices sessions), for the domain's own use."""
    return await repository.site_of_station(station_id)


async def evses_by_ids(principal: Principal, evse_ids: Sequence[int]) -> dict[int, EvseView]:
    require(principal, Permission.READ_STATIONS)
    found = await repository.evses_by_ids(principal.organization_id, evse_ids)
    return {evse.id: evse for evse in found}


async def evses_by_station_ids(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, list[EvseView]]:
    """Each station's EVSEs in number order."""
    require(principal, Permission.READ_STATIONS)
    grouped: dict[int, list[EvseView]] = defaultdict(list)
    for evse in await repository.evses_by_station_ids(principal.organization_id, station_ids):
        grouped[evse.station_id].append(evse)
    return grouped


async def record_boot(uow: UnitOfWork, station: StationRecord, boot: BootInfo) -> BootAnswer:
    """Store what a booting station says about itself; the registration status and heartbeat
    interval to answer."""
    async with uow:
        status = station.registration_status
        if status != "Accepted":  # approved since it connected? (only approval changes it)
            current = await repository.get_station_record(station.identity)
            status = current.registration_status if current else status
        interval = await repository.record_boot(station.id, boot, status)
        uow.emit(
            StationBooted(
                organization_id=station.organization_id,
                station_id=station.id,
                identity=station.identity,
                registration_status=status,
                vendor=boot.vendor,
                model=boot.model,
                firmware_version=boot.firmware_version,
                reason=boot.reason,
            )
        )
        return BootAnswer(status, interval)


async def record_heartbeat(station_ids: Sequence[int]) -> None:
    """Stations were heard from (batched by the caller; no event)."""
    await repository.touch(station_ids)


def status_event(
    station: StationRecord, report: StatusReport
) -> StationStatusChanged | ConnectorStatusChanged:
    """The event a status report publishes: the station's own (EVSE 0) or a connector's. It
    happened when the station says (as in the status history), not when it reached us: a
    status replayed after an outage is an hour old."""
    if report.evse_id == 0:
        return StationStatusChanged(
            organization_id=station.organization_id,
            station_id=station.id,
            identity=station.identity,
            status=report.status,
            occurred_at=report.occurred_at,
        )
    return ConnectorStatusChanged(
        organization_id=station.organization_id,
        station_id=station.id,
        identity=station.identity,
        evse_id=report.evse_id,
        connector_id=report.connector_id,
        status=report.status,
        error_code=report.error_code,
        vendor_error_code=report.vendor_error_code,
        info=report.info,
        occurred_at=report.occurred_at,
    )


async def record_status(uow: UnitOfWork, station: StationRecord, report: StatusReport) -> None:
    """A station or connector status: stored live and in the history, and published."""
    event = status_event(station, report)
    connector_row: int | None = None
    if report.evse_id != 0:
        _evse_row, connector_row = await connector_rows(
            station.id, report.evse_id, report.connector_id
        )
    if uow.grouped is not None:
        await uow.grouped.submit(
            StatusWrite(
                station_id=station.id,
                connector_row=connector_row,
                status=report.status,
                error_code=report.error_code,
                vendor_error_code=report.vendor_error_code,
                info=report.info,
                occurred_at=report.occurred_at,
                received_at=utcnow(),
            )
        )
        await uow.publish(event)
    else:
        async with uow:
            await repository.record_status(station.id, connector_row, report)
            uow.emit(event)


async def offer_password(uow: UnitOfWork, station_id: int, password_hash: str) -> None:
    """A new password is on its way to the station: from now on it may connect with it (and
    with its old one until it does)."""
    async with uow:
        await repository.set_pending_password_hash(station_id, password_hash)


async def withdraw_password(uow: UnitOfWork, station_id: int, password_hash: str) -> None:
    """The station did not take the new password: it is void (unless another replaced it)."""
    async with uow:
        await repository.set_pending_password_hash(station_id, None, replacing=password_hash)


async def prune_security_events(retention: timedelta) -> int:
    """Forget security events older than `retention`; how many went."""
    return await repository.prune_security_events(utcnow() - retention)


async def record_security_event(
    uow: UnitOfWork, station: StationRecord, kind: str, tech_info: str | None, occurred_at: datetime
) -> None:
    """A security event the station reported."""
    async with uow:
        await repository.add_security_event(
            station_id=station.id,
            identity=station.identity,
            kind=kind,
            tech_info=tech_info,
            source="station",
            occurred_at=occurred_at,
        )
        uow.emit(
            SecurityEventRaised(
                organization_id=station.organization_id,
                station_id=station.id,
                identity=station.identity,
                type=kind,
                tech_info=tech_info,
                source="station",
            )
        )


async def next_request_id(station_id: int) -> int:
    """A positive id, unique for this station, for a request it echoes back (2.0.1
    remoteStartId, firmware, log and report requestIds)."""
    return await repository.next_request_id(station_id)


async def record_transfer_status(
    uow: UnitOfWork, station: StationRecord, kind: str, status: str
) -> None:
    """A firmware (`kind` firmware) or diagnostics/log upload (diagnostics) progress report."""
    async with uow:
        await repository.set_transfer_status(station.id, kind, status, utcnow())
        if kind == "firmware":
            uow.emit(
                FirmwareStatusReported(
                    organization_id=station.organization_id,
                    station_id=station.id,
                    identity=station.identity,
                    status=status,
                )
            )


async def record_reservation(
    uow: UnitOfWork,
    station: StationRecord,
    reservation_id: int,
    evse_id: int,
    id_tag: str,
    expires_at: datetime,
) -> None:
    """A reservation the station accepted; EVSE 0 (1.6 connector 0) is any EVSE."""
    evse_row_id = (await connector_rows(station.id, evse_id, 1))[0] if evse_id > 0 else None
    async with uow:
        await repository.save_reservation(
            station.organization_id, station.id, evse_row_id, reservation_id, id_tag, expires_at
        )


async def tag_reservation(
    uow: UnitOfWork, station_id: int, reservation_id: int, partner_id: int, reference: str
) -> None:
    """A reservation made for a roaming partner, which knows it by its own reference."""
    async with uow:
        await repository.tag_reservation(station_id, reservation_id, partner_id, reference)


async def partner_reservation(partner_id: int, reference: str) -> ReservationView | None:
    """The reservation a roaming partner knows by this reference (its latest)."""
    return await repository.partner_reservation(partner_id, reference)


async def page_reservations(
    principal: Principal, filters: ReservationFilter | None, request: PageRequest
) -> Page[ReservationView]:
    """The organization's reservations, newest first; an Active one past its time is Expired."""
    require(principal, Permission.READ_NETWORK)
    return await repository.page_reservations(
        principal.organization_id, filters or ReservationFilter(), request
    )


async def reservations_by_ids(
    principal: Principal, reservation_ids: Sequence[int]
) -> dict[int, ReservationView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.reservations_by_ids(principal.organization_id, reservation_ids)
    return {reservation.id: reservation for reservation in found}


# 2.0.1 ReservationStatusUpdate values -> our reservation states.
RESERVATION_STATES = {"Expired": "Expired", "Removed": "Cancelled"}


async def record_reservation_status(
    uow: UnitOfWork, station: StationRecord, reservation_id: int, reported: str
) -> None:
    """A reservation ended: the station let it expire or removed it (ReservationStatusUpdate),
    or it accepted our CancelReservation (`Cancelled`)."""
    async with uow:
        found = await repository.set_reservation_status(
            station.id, reservation_id, RESERVATION_STATES.get(reported, reported)
        )
    if not found:
        logger.warning(
            "station %s reported reservation %s, which we do not know",
            station.identity,
            reservation_id,
        )


# (station, evse, connector) -> (evse row, connector row). Rows are created once and never
# renumbered, so the mapping can be kept; it saves two queries on every status and meter value.
_CONNECTOR_ROWS: dict[tuple[int, int, int], tuple[int, int]] = {}
_CONNECTOR_ROWS_LIMIT = 500_000


async def connector_rows(station_id: int, evse_id: int, connector_id: int) -> tuple[int, int]:
    """Row ids of an EVSE and its connector, created on first sight."""
    key = (station_id, evse_id, connector_id)
    rows = _CONNECTOR_ROWS.get(key)
    if rows is None:
        rows = await repository.ensure_connector(station_id, evse_id, connector_id)
        if len(_CONNECTOR_ROWS) >= _CONNECTOR_ROWS_LIMIT:
            _CONNECTOR_ROWS.clear()
        _CONNECTOR_ROWS[key] = rows
    return rows


def forget_connector_rows() -> None:
    """Drop every cached row id (after the tables were emptied)."""
    _CONNECTOR_ROWS.clear()


async def forget_removed_connectors(bus: EventBus) -> None:
    """For the life of the process: drop the cached row ids of connectors that an operator
    deleted, on whichever node that happened."""
    async with bus.subscribe(ConnectorRemoved) as events:
        async for event in events:
            assert isinstance(event, ConnectorRemoved)
            _CONNECTOR_ROWS.pop((event.station_id, event.evse_id, event.connector_id), None)


async def get_station_record(identity: str) -> StationRecord | None:
    """What the OCPP side needs about a station, by identity."""
    return await repository.get_station_record(identity)


# A station is offline once it has been silent for its heartbeat interval times this, plus
# the grace period (a heartbeat can be late by a slow network, and 2.0.1 may skip heartbeats
# while it sends other messages).
SILENCE_FACTOR = 2
SILENCE_GRACE = timedelta(seconds=60)


async def mark_silent_stations_offline(uow: UnitOfWork, now: datetime) -> list[str]:
    """Stations connected on paper but silent for too long: offline, with an event each.

    Also catches stations of a node that died without closing its connections."""
    async with uow:
        candidates = await repository.connected_stations(
            silent_since=now
            - timedelta(seconds=MIN_HEARTBEAT_INTERVAL_S * SILENCE_FACTOR)
            - SILENCE_GRACE
        )
        silent = [
            row
            for row in candidates
            if row["last_seen_at"]
            < now - timedelta(seconds=row["heartbeat_interval"] * SILENCE_FACTOR) - SILENCE_GRACE
        ]
        await _take_offline(uow, silent)
        return [row["identity"] for row in silent]


async def mark_node_offline(uow: UnitOfWork, node_id: str) -> int:
    """Every station this node holds goes offline at once (the node is stopping): a few
    statements instead of one transaction per station; how many there were."""
    async with uow:
        held = await repository.connected_stations(node_id=node_id)
        await _take_offline(uow, held)
        return len(held)


async def _take_offline(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """Mark these connected stations offline, watch each for staying so, with an event each.
    Inside `uow`."""
    if not rows:
        return
    await repository.mark_offline([row["id"] for row in rows])
    await went_offline(
        uow,
        [
            Disconnected(row["organization"], row["id"], row["identity"], row["node_id"])
            for row in rows
        ],
    )


async def went_offline(uow: UnitOfWork, stations: Sequence[Disconnected]) -> None:
    """These stations, recorded offline, are announced, an event each. Inside `uow`."""
    for station in stations:
        uow.emit(
            StationConnectionChanged(
                organization_id=station.organization_id,
                station_id=station.station_id,
                identity=station.identity,
                connected=False,
                protocol=None,
                node_id=station.node_id or "unknown",
            )
        )


async def record_configuration(
    uow: UnitOfWork,
    station: StationRecord,
    entries: Sequence[ConfigurationEntry],
    *,
    values_only: bool = False,
) -> None:
    """What a station reported about its configuration (2.0.1 NotifyReport, 1.6 keys), or
    (`values_only`) values it accepted to change."""
    if not entries:
        return
    async with uow:
        await repository.upsert_configuration(station.id, entries, values_only=values_only)


async def record_events(
    uow: UnitOfWork, station: StationRecord, events: Sequence[StationEvent]
) -> None:
    """What a station reported as events (2.0.1 NotifyEvent): the variables' values are kept,
    and the events announced."""
    if not events:
        return
    async with uow:
        await repository.upsert_configuration(
            station.id, [event.entry for event in events], values_only=True
        )
        uow.emit(
            StationEventsReported(
                organization_id=station.organization_id,
                station_id=station.id,
                identity=station.identity,
                events=[
                    ReportedVariableEvent(
                        component=event.entry.component,
                        variable=event.entry.variable,
                        value=event.entry.value,
                        evse_id=event.entry.evse_id,
                        connector_id=event.entry.connector_id,
                        trigger=event.trigger,
                        cleared=event.cleared,
                        tech_code=event.tech_code,
                        tech_info=event.tech_info,
                    )
                    for event in events
                ],
            )
        )


async def configuration_of(station_id: int) -> list[ConfigurationEntry]:
    """The configuration last reported by a station."""
    return await repository.configuration_of(station_id)


# A signed certificate is sent this long after the request is answered, so a station hears
# its answer first, as OCPP orders them.
SIGNED_CERTIFICATE_DELAY = timedelta(seconds=1)


async def sign_certificate(
    uow: UnitOfWork,
    station: StationRecord,
    ca: StationCA | None,
    csr: str,
    certificate_type: str | None,
) -> SigningRefusal | None:
    """Why a station's certificate signing request is refused; None when it is signed, and the
    certificate on its way to the station (CertificateSigned, through the outbox)."""
    if certificate_type not in (None, STATION_CERTIFICATE):
        return SigningRefusal("NotSupported", f"{certificate_type} is signed by the V2G PKI")
    if ca is None:
        return SigningRefusal("NotSupported", "no CA signs station certificates here")
    try:
        # A signature check and a signature: CPU work, off the event loop.
        chain = await asyncio.to_thread(sign_station_csr, ca, csr, station.identity, utcnow())
    except CsrRefused as refused:
        logger.warning("refused to sign for %s: %s", station.identity, refused)
        return SigningRefusal("InvalidCSR", str(refused))
    async with uow:
        await outbox.enqueue(
            station.organization_id,
            SEND_SIGNED_CERTIFICATE,
            {
                "organization_id": station.organization_id,
                "identity": station.identity,
                "certificate_chain": chain,
                "certificate_type": certificate_type,
            },
            f"{SEND_SIGNED_CERTIFICATE}:{station.id}:{utcnow().isoformat()}",
            not_before=utcnow() + SIGNED_CERTIFICATE_DELAY,
        )
    return None
