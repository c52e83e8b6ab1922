"""GraphQL object types, each built from a domain value object."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.commands import service as command_service
from app.events import (
    CommandCompleted,
    ConnectorStatusChanged,
    SessionChanged,
    StationConnectionChanged,
    StationStatusChanged,
)
from app.healing import service as healing
from app.roaming.local_lists import LocalListState, LocalListView
from app.sessions import service as sessions
from app.smart_charging import service as smart_charging
from app.smart_charging.capacity import capacity_at
from app.stations import service as stations
from app.stations.connector_status import normalise
from app.stations.grid import LoadBalancing
from app.stations.models import (
    ConnectorView,
    EvseView,
    ReservationFilter,
    SiteView,
    StationFilter,
    StationOrder,
    StationView,
)
from app.stations.site_details import ParkingRestriction, ParkingType
from app.timeparse import utcnow
from schema.charging_profiles import ChargingProfile, CompositeSchedule
from schema.context import Context
from schema.demand_response import DemandResponseEvent
from schema.enums import (
    CommandAction,
    CommandStatus,
    ConnectorStatus,
    PowerType,
    RegistrationStatus,
    ReservationStatus,
    SessionLifecycle,
)
from schema.ids import global_id, nodes_by_id
from schema.pagination import After, Before, Connection, First, Last, connection, page_request
from schema.reservations import Reservation
from schema.session_types import ChargingSession
from schema.site_details import EnergyMix, OpeningHours
from schema.station_log_types import CommandLog, OcppFrame

if TYPE_CHECKING:
    from schema.uptime_types import MaintenanceWindow, UptimeReport


@strawberry.type(description="Where a station's local authorization list stands.")
class LocalListSync:
    version: int = strawberry.field(description="The list version the station was last sent")
    state: LocalListState
    synced_to: datetime | None = strawberry.field(
        description="Token changes up to this time are in the station's list; null: a whole "
        "list is due"
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="After a refusal: when the station is asked again"
    )
    updated_at: datetime = strawberry.field(description="When the last attempt ended")

    @classmethod
    def from_model(cls, model: LocalListView) -> LocalListSync:
        return cls(
            version=model.version,
            state=model.state,
            synced_to=model.synced_to,
            next_attempt_at=model.next_attempt_at,
            updated_at=model.updated_at,
        )


@strawberry.type
class Connector(relay.Node):
    id: relay.NodeID[int]
    evse_id: int = strawberry.field(description="EVSE number within the station")
    connector_id: int = strawberry.field(description="Connector number within the EVSE")
    standard: str = strawberry.field(description="OCPI ConnectorType, e.g. IEC_62196_T2")
    format: str = strawberry.field(description="SOCKET or CABLE")
    power_type: PowerType
    max_voltage: int
    max_amperage: int
    max_power_w: int
    status: ConnectorStatus = strawberry.field(
        description="The same for OCPP 1.6 and 2.0.1; OFFLINE while the station is not connected"
    )
    raw_status: str = strawberry.field(
        description="The status as the station last reported it, in its OCPP version's words"
    )
    last_reported_status: ConnectorStatus = strawberry.field(
        description="The normalised status the station last reported, also while offline"
    )
    status_updated_at: datetime | None = strawberry.field(
        description="When the station reported its last status (its own clock)"
    )
    error_code: str | None
    vendor_error_code: str | None
    station_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, model: ConnectorView) -> Connector:
        return cls(
            id=model.id,
            evse_id=model.evse_id,
            connector_id=model.connector_id,
            standard=model.standard,
            format=model.format,
            power_type=PowerType(model.power_type),
            max_voltage=model.max_voltage,
            max_amperage=model.max_amperage,
            max_power_w=model.max_power_w,
            status=model.api_status,
            raw_status=model.status,
            last_reported_status=model.last_reported_status,
            status_updated_at=model.status_updated_at,
            error_code=model.error_code,
            vendor_error_code=model.vendor_error_code,
            station_id=model.station_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Connector | None]:
        return await nodes_by_id(
            node_ids, partial(stations.connectors_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def station(self, info: Info[Context, None]) -> ChargingStation | None:
        station = await info.context.loaders.station.load(self.station_id)
        return ChargingStation.from_model(station) if station else None

    @strawberry.field(
        description="Availability per day in the site's time zone (both days included) and "
        "over the last 12 months (operators' reports)."
    )
    async def uptime(
        self, info: Info[Context, None], first_day: date, last_day: date
    ) -> Annotated[UptimeReport, strawberry.lazy("schema.uptime_types")]:
        from schema.uptime_types import connector_report

        station = await info.context.loaders.station.load(self.station_id)
        site_id = station.site_id if station else None
        return await connector_report(info, [int(self.id)], site_id, first_day, last_day)

    @strawberry.field(description="The session running on this connector, if any.")
    async def current_session(self, info: Info[Context, None]) -> ChargingSession | None:
        session = await info.context.loaders.current_session.load(int(self.id))
        return ChargingSession.from_model(session) if session else None


@strawberry.type(
    description="An EVSE: one vehicle charges here at a time, on one of its connectors."
)
class Evse(relay.Node):
    id: relay.NodeID[int]
    evse_id: int = strawberry.field(description="EVSE number within the station")
    evse_uid: str | None = strawberry.field(description="OCPI / eMI3 EVSE id, e.g. DE*ABC*E1*1")
    max_power_w: int | None
    station_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, model: EvseView) -> Evse:
        return cls(
            id=model.id,
            evse_id=model.evse_id,
            evse_uid=model.evse_uid,
            max_power_w=model.max_power_w,
            station_id=model.station_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Evse | None]:
        return await nodes_by_id(
            node_ids, partial(stations.evses_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def connectors(self, info: Info[Context, None]) -> list[Connector]:
        of_station = await info.context.loaders.connectors_of_station.load(self.station_id)
        return [
            Connector.from_model(connector)
            for connector in of_station
            if connector.evse_id == self.evse_id
        ]

    @strawberry.field
    async def station(self, info: Info[Context, None]) -> ChargingStation | None:
        station = await info.context.loaders.station.load(self.station_id)
        return ChargingStation.from_model(station) if station else None


@strawberry.type
class ChargingStation(relay.Node):
    id: relay.NodeID[int]
    identity: str = strawberry.field(description="OCPP identity: the last path segment of its URL")
    name: str | None
    protocol: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    registration_status: RegistrationStatus
    status: ConnectorStatus = strawberry.field(
        description="The station's own status (EVSE 0), normalised as a connector's; OFFLINE "
        "while it is not connected."
    )
    raw_status: str = strawberry.field(description="The station's own value, as it reported it.")
    connected: bool
    last_seen_at: datetime | None
    security_profile: int = strawberry.field(
        description="0 none, 1 Basic auth, 2 TLS + Basic, 3 TLS + client certificate."
    )

    @strawberry.field(
        description="Connects without any password (security profile 0): anyone who knows "
        "its identity can pose as it."
    )
    def insecure(self) -> bool:
        return self.security_profile == 0

    free_vend: bool = strawberry.field(description="Unknown id tokens may charge here.")
    assumed_protocol: str | None
    firmware_status: str | None = strawberry.field(description="Last firmware update progress.")
    diagnostics_status: str | None = strawberry.field(
        description="Last diagnostics or log upload progress."
    )
    heartbeat_interval_s: int = strawberry.field(
        description="Seconds between the station's heartbeats: sent to it when changed while "
        "it is connected, and in every BootNotification answer; it is taken for offline "
        "after twice this plus a minute without a sign of life."
    )
    site_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, model: StationView) -> ChargingStation:
        return cls(
            id=model.id,
            identity=model.identity,
            name=model.name,
            protocol=model.protocol,
            vendor=model.vendor,
            model=model.model,
            firmware_version=model.firmware_version,
            registration_status=RegistrationStatus(model.registration_status),
            status=model.api_status,
            raw_status=model.status,
            connected=model.connected,
            last_seen_at=model.last_seen_at,
            security_profile=model.security_profile,
            free_vend=model.free_vend,
            assumed_protocol=model.assumed_protocol,
            firmware_status=model.firmware_status,
            diagnostics_status=model.diagnostics_status,
            heartbeat_interval_s=model.heartbeat_interval,
            site_id=model.site_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[ChargingStation | None]:
        return await nodes_by_id(
            node_ids, partial(stations.stations_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def evses(self, info: Info[Context, None]) -> list[Evse]:
        evses = await info.context.loaders.evses_of_station.load(int(self.id))
        return [Evse.from_model(evse) for evse in evses]

    @strawberry.field(description="Every connector of every EVSE, in number order.")
    async def connectors(self, info: Info[Context, None]) -> list[Connector]:
        connectors = await info.context.loaders.connectors_of_station.load(int(self.id))
        return [Connector.from_model(connector) for connector in connectors]

    @strawberry.field(description="Commands sent to this station, newest first.")
    async def commands(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CommandLog]:
        page = await command_service.command_log(
            info.context.principal, int(self.id), page_request(first, after, last, before)
        )
        return connection(page, CommandLog.from_model)

    @strawberry.field(description="Planned downtime of the station and its connectors.")
    async def maintenance_windows(
        self, info: Info[Context, None]
    ) -> list[Annotated[MaintenanceWindow, strawberry.lazy("schema.uptime_types")]]:
        from schema.uptime_types import MaintenanceWindow

        windows = await healing.maintenance_of_station(info.context.principal, int(self.id))
        return [MaintenanceWindow.from_model(window) for window in windows]

    @strawberry.field(description="Reservations of this station, newest first.")
    async def reservations(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: ReservationStatus | None = None,
    ) -> Connection[Reservation]:
        page = await stations.page_reservations(
            info.context.principal,
            ReservationFilter(station_id=int(self.id), status=status),
            page_request(first, after, last, before),
        )
        return connection(page, Reservation.from_model)

    @strawberry.field(
        description="Charging profiles on the station by EVSE, purpose and stack level; "
        "`includeInactive` adds replaced and cleared ones."
    )
    async def charging_profiles(
        self, info: Info[Context, None], include_inactive: bool = False
    ) -> list[ChargingProfile]:
        if include_inactive:
            found = await smart_charging.profiles_of_stations(
                info.context.principal, [int(self.id)], include_inactive=True
            )
            profiles = found.get(int(self.id), [])
        else:
            profiles = await info.context.loaders.profiles_of_station.load(int(self.id))
        return [ChargingProfile.from_model(profile) for profile in profiles]

    @strawberry.field(
        description="The local authorization list the CPMS keeps on the station (roaming "
        "partners' tokens, see updatePartner(stationLocalLists)); null: none sent"
    )
    async def local_list(self, info: Info[Context, None]) -> LocalListSync | None:
        found = await info.context.loaders.local_list.load(int(self.id))
        return LocalListSync.from_model(found) if found else None

    @strawberry.field(
        description="The latest composite schedule the station reported for each EVSE it was "
        "asked about (getCompositeSchedule; evseId 0 is the whole station)."
    )
    async def composite_schedules(self, info: Info[Context, None]) -> list[CompositeSchedule]:
        found = await info.context.loaders.composites_of_station.load(int(self.id))
        return [CompositeSchedule.from_model(schedule) for schedule in found]

    @strawberry.field(
        description="Raw OCPP frames in and out, newest first (operators; kept for the "
        "retention period)."
    )
    async def message_log(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[OcppFrame]:
        page = await stations.message_log(
            info.context.principal, self.identity, page_request(first, after, last, before)
        )
        return connection(page, OcppFrame.from_model)

    @strawberry.field
    async def site(self, info: Info[Context, None]) -> Site | None:
        if self.site_id is None:
            return None
        site = await info.context.loaders.site.load(self.site_id)
        return Site.from_model(site) if site else None


@strawberry.type
class Site(relay.Node):
    id: relay.NodeID[int]
    name: str
    address: str | None
    city: str | None
    postal_code: str | None
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    time_zone: str
    publish: bool = strawberry.field(
        description="Roaming partners may show the site to their drivers (OCPI publish)."
    )
    opening_hours: OpeningHours = strawberry.field(description="When the site is open (AFIR).")
    energy_mix: EnergyMix | None = strawberry.field(
        description="The energy the site sells, when known (AFIR)."
    )
    parking_restrictions: list[ParkingRestriction] = strawberry.field(
        description="Who may park at its charging spaces; empty: anyone (AFIR)."
    )
    parking_type: ParkingType | None = strawberry.field(
        description="Where its charging spaces are; null: not recorded (OCPI)."
    )
    grid_capacity_a: int | None = strawberry.field(
        description="Amperes per phase the site may draw from the grid; null: not limited here."
    )
    grid_phases: int = strawberry.field(description="Phases of the grid connection: 1 or 3.")
    min_current_a: Decimal = strawberry.field(
        description="The least current per phase an EV may be offered."
    )
    load_balancing: LoadBalancing = strawberry.field(
        description="How the grid capacity is shared among the EVs charging there."
    )

    @classmethod
    def from_model(cls, model: SiteView) -> Site:
        return cls(
            id=model.id,
            name=model.name,
            address=model.address,
            city=model.city,
            postal_code=model.postal_code,
            country=model.country,
            latitude=model.latitude,
            longitude=model.longitude,
            time_zone=model.time_zone,
            publish=model.publish,
            opening_hours=OpeningHours.from_model(model.opening_hours),
            energy_mix=EnergyMix.from_model(model.energy_mix) if model.energy_mix else None,
            parking_restrictions=[ParkingRestriction(each) for each in model.parking_restrictions],
            parking_type=ParkingType(model.parking_type) if model.parking_type else None,
            grid_capacity_a=model.grid_capacity_a,
            grid_phases=model.grid_phases,
            min_current_a=model.min_current_a,
            load_balancing=LoadBalancing(model.load_balancing),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Site | None]:
        return await nodes_by_id(
            node_ids, partial(stations.sites_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field(description="The site's stations, by identity by default.")
    async def stations(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: StationOrder = StationOrder.IDENTITY,
    ) -> Connection[ChargingStation]:
        page = await stations.page_stations(
            info.context.principal,
            StationFilter(site_id=int(self.id)),
            order_by,
            page_request(first, after, last, before),
        )
        return connection(page, ChargingStation.from_model)

    @strawberry.field(
        description="Demand response events in force now or to come, earliest first (not for "
        "drivers)."
    )
    async def demand_response_events(self, info: Info[Context, None]) -> list[DemandResponseEvent]:
        events = await info.context.loaders.demand_response_of_site.load(int(self.id))
        return [DemandResponseEvent.from_model(event) for event in events]

    @strawberry.field(
        description="Amperes per phase the site may draw now: the lower of gridCapacityA and "
        "the demand response events in force; null: not limited (not for drivers)."
    )
    async def capacity_a(self, info: Info[Context, None]) -> Decimal | None:
        events = await info.context.loaders.demand_response_of_site.load(int(self.id))
        return capacity_at(self.grid_capacity_a, events, utcnow())

    @strawberry.field(
        description="The site's availability: its connectors' times summed, per day and over "
        "the last 12 months."
    )
    async def uptime(
        self, info: Info[Context, None], first_day: date, last_day: date
    ) -> Annotated[UptimeReport, strawberry.lazy("schema.uptime_types")]:
        from schema.uptime_types import connector_report

        of_site = await info.context.loaders.stations_of_site.load(int(self.id))
        connectors = await stations.connectors_by_station_ids(
            info.context.principal, [station.id for station in of_site]
        )
        ids = [connector.id for found in connectors.values() for connector in found]
        return await connector_report(info, ids, int(self.id), first_day, last_day)


@strawberry.type
class StationConnectionEvent:
    identity: str
    connected: bool
    protocol: str | None
    node_id: str
    occurred_at: datetime

    @classmethod
    def from_event(cls, event: StationConnectionChanged) -> StationConnectionEvent:
        return cls(
            identity=event.identity,
            connected=event.connected,
            protocol=event.protocol,
            node_id=event.node_id,
            occurred_at=event.occurred_at,
        )


@strawberry.type
class StationStatusEvent:
    station_id: relay.GlobalID
    identity: str
    status: ConnectorStatus
    raw_status: str
    occurred_at: datetime

    @classmethod
    def from_event(cls, event: StationStatusChanged) -> StationStatusEvent:
        return cls(
            station_id=global_id("ChargingStation", event.station_id),
            identity=event.identity,
            status=normalise(event.status),
            raw_status=event.status,
            occurred_at=event.occurred_at,
        )


@strawberry.type
class ConnectorStatusEvent:
    station_id: relay.GlobalID
    identity: str
    evse_id: int
    connector_id: int
    status: ConnectorStatus = strawberry.field(
        description="As reported; a 2.0.1 Occupied is refined by its session's chargingState "
        "in `Connector.status`, not here."
    )
    raw_status: str
    error_code: str | None
    occurred_at: datetime

    @classmethod
    def from_event(cls, event: ConnectorStatusChanged) -> ConnectorStatusEvent:
        return cls(
            station_id=global_id("ChargingStation", event.station_id),
            identity=event.identity,
            evse_id=event.evse_id,
            connector_id=event.connector_id,
            status=normalise(event.status),
            raw_status=event.status,
            error_code=event.error_code,
            occurred_at=event.occurred_at,
        )


@strawberry.type
class SessionEvent:
    session_id: relay.GlobalID
    station_id: relay.GlobalID
    identity: str
    transaction_id: str
    phase: str = strawberry.field(description="started | updated | ended")
    state: SessionLifecycle
    evse_id: int | None
    connector_id: int | None
    energy_wh: int
    power_w: int | None
    stop_reason: str | None
    occurred_at: datetime
    started_at: datetime | None
    row_id: strawberry.Private[int]

    @strawberry.field(
        description="Cost so far incl. VAT in minor units, while the session runs; the final "
        "cost is the session's once it ended."
    )
    async def cost_minor(self) -> int | None:
        if self.phase == "ended" or self.started_at is None:
            return None
        costs = await sessions.running_costs([(self.row_id, self.started_at, self.energy_wh)])
        return costs[self.row_id][0] if self.row_id in costs else None

    @classmethod
    def from_event(cls, event: SessionChanged) -> SessionEvent:
        return cls(
            session_id=global_id("ChargingSession", event.session_id),
            station_id=global_id("ChargingStation", event.station_id),
            identity=event.identity,
            transaction_id=event.transaction_id,
            phase=event.phase,
            state=SessionLifecycle(event.state),
            evse_id=event.evse_id,
            connector_id=event.connector_id,
            energy_wh=event.energy_wh,
            power_w=event.power_w,
            stop_reason=event.stop_reason,
            occurred_at=event.occurred_at,
            started_at=event.started_at,
            row_id=event.session_id,
        )


@strawberry.type
class CommandResultEvent:
    command_log_id: relay.GlobalID
    station_id: relay.GlobalID
    identity: str
    action: CommandAction
    status: CommandStatus
    station_status: str | None
    error_code: str | None
    occurred_at: datetime

    @classmethod
    def from_event(cls, event: CommandCompleted) -> CommandResultEvent:
        return cls(
            command_log_id=global_id("CommandLog", event.command_log_id),
            station_id=global_id("ChargingStation", event.station_id),
            identity=event.identity,
            action=CommandAction(event.action),
            status=CommandStatus(event.status),
            station_status=event.station_status,
            error_code=event.error_code,
            occurred_at=event.occurred_at,
        )
