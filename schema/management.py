"""Mutations that manage the network: sites, stations (with their OCPP credentials) and
connectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.unset import UNSET

from app.errors import CPMSError
from app.imports import ImportLine, Outcome
from app.stations import imports, management
from app.stations.grid import LoadBalancing
from app.stations.site_details import ParkingRestriction, ParkingType
from schema.context import Context
from schema.enums import ConnectorFormat, ConnectorStandard, PowerType
from schema.ids import local_id
from schema.inputs import given
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)
from schema.site_details import EnergyMixInput, OpeningHoursInput, as_plain
from schema.types import ChargingStation, Connector, Site


@strawberry.input
class SiteInput:
    name: str | None = UNSET
    address: str | None = UNSET
    city: str | None = UNSET
    postal_code: str | None = UNSET
    country: str | None = strawberry.field(default=UNSET, description="ISO 3166-1 alpha-3")
    time_zone: str | None = strawberry.field(default=UNSET, description="e.g. Europe/Berlin")
    latitude: Decimal | None = UNSET
    longitude: Decimal | None = UNSET
    grid_capacity_a: int | None = strawberry.field(
        default=UNSET,
        description="Amperes per phase the site may draw from the grid, 0 to 100000; null: "
        "not limited here.",
    )
    grid_phases: int | None = strawberry.field(
        default=UNSET, description="Phases of the grid connection: 1 or 3 (the default)."
    )
    min_current_a: Decimal | None = strawberry.field(
        default=UNSET,
        description="The least current per phase an EV may be offered, 6 to 80 A to a tenth "
        "(default 6, the IEC 61851 minimum).",
    )
    load_balancing: LoadBalancing | None = strawberry.field(
        default=UNSET,
        description="How the grid capacity is shared among the EVs charging there: EQUAL (the "
        "default) or PRIORITY.",
    )
    publish: bool | None = strawberry.field(
        default=UNSET,
        description="Whether roaming partners may show the site to their drivers (default "
        "true); an unpublished site is still sent to them, marked so (OCPI publish).",
    )
    opening_hours: OpeningHoursInput | None = strawberry.field(
        default=UNSET, description="When the site is open; null: always (AFIR)."
    )
    energy_mix: EnergyMixInput | None = strawberry.field(
        default=UNSET, description="The energy the site sells; null: not known (AFIR)."
    )
    parking_restrictions: list[ParkingRestriction] | None = strawberry.field(
        default=UNSET,
        description="Who may park at its charging spaces; null or empty: anyone (AFIR, OCPI).",
    )
    parking_type: ParkingType | None = strawberry.field(
        default=UNSET,
        description="Where its charging spaces are (a car park, a street, ...); null: not "
        "recorded (OCPI; OCPI 2.1.1 partners are told the nearest LocationType).",
    )


@strawberry.input
class StationInput:
    name: str | None = UNSET
    site_id: relay.GlobalID | None = UNSET
    password: str | None = strawberry.field(
        default=UNSET, description="OCPP Basic-auth password, 16-40 characters; null removes it."
    )
    security_profile: int | None = strawberry.field(
        default=UNSET,
        description="0 none, 1 Basic auth, 2 TLS + Basic auth, 3 TLS + client certificate "
        "(no password needed).",
    )
    free_vend: bool | None = strawberry.field(
        default=UNSET, description="Let unknown id tokens charge here."
    )
    assumed_protocol: str | None = strawberry.field(
        default=UNSET, description="For stations that send no subprotocol: ocpp1.6 or ocpp2.0.1."
    )
    heartbeat_interval_s: int | None = strawberry.field(
        default=UNSET,
        description="Seconds between heartbeats, 10 to 86400 (a new station: its "
        "organization's heartbeatIntervalS). A connected station is sent it at once.",
    )


@strawberry.input(description="A connector's description; fields left out stay as they are.")
class ConnectorInput:
    standard: ConnectorStandard | None = UNSET
    format: ConnectorFormat | None = UNSET
    power_type: PowerType | None = UNSET
    max_voltage: int | None = UNSET
    max_amperage: int | None = UNSET
    max_power_w: int | None = UNSET


def site_changes(input: SiteInput) -> dict[str, Any]:
    """The fields sent, with nested inputs as the plain values the domain checks."""
    return {name: as_plain(value) for name, value in given(input).items()}


def station_changes(input: StationInput) -> dict[str, Any]:
    changes = given(input)
    if "site_id" in changes:
        changes["site_id"] = local_id(changes["site_id"], "Site")
    return changes


@strawberry.type
class SiteSaved:
    site: Site


@strawberry.type
class StationSaved:
    station: ChargingStation
    password: str | None = strawberry.field(
        default=None,
        description="The OCPP password generated for a new station: shown this once, never "
        "again (null when the caller chose one or asked for security profile 0).",
    )


@strawberry.type
class ConnectorSaved:
    connector: Connector


@strawberry.type
class Deleted:
    id: strawberry.ID


SiteResult = Annotated[
    SiteSaved | NotAuthenticatedError | NotPermittedError | InvalidInputError | NotFoundError,
    strawberry.union("SiteResult"),
]
StationResult = Annotated[
    StationSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError
    | AlreadyExistsError,
    strawberry.union("StationResult"),
]
ConnectorResult = Annotated[
    ConnectorSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError
    | AlreadyExistsError,
    strawberry.union("ConnectorResult"),
]
DeleteResult = Annotated[
    Deleted | NotAuthenticatedError | NotPermittedError | InvalidInputError | NotFoundError,
    strawberry.union("DeleteResult"),
]


strawberry.enum(Outcome, name="ImportOutcome", description="What one imported line did.")


@strawberry.input(description="One station to import; the same rules as createStation.")
class StationImportInput:
    identity: str
    site: str | None = strawberry.field(default=None, description="The name of one of your sites.")
    password: str | None = strawberry.field(
        default=None, description="16 to 40 characters; generated when left out."
    )
    security_profile: int | None = strawberry.field(
        default=None, description="1 when left out; 0 (no password) only when asked for."
    )


@strawberry.type(description="What one line of an import did.")
class ImportReportLine:
    line: int = strawberry.field(description="Its position in the list, from 1.")
    key: str = strawberry.field(description="The station's identity.")
    outcome: Outcome
    message: str | None = strawberry.field(description="Why it failed.")
    password: str | None = strawberry.field(
        description="The generated OCPP password, shown this once."
    )

    @classmethod
    def from_model(cls, line: ImportLine) -> ImportReportLine:
        return cls(
            line=line.line,
            key=line.key,
            outcome=line.outcome,
            message=line.message,
            password=line.password,
        )


@strawberry.type
class StationsImported:
    lines: list[ImportReportLine]

    @strawberry.field(description="How many lines had each outcome.")
    def created(self) -> int:
        return sum(line.outcome is Outcome.CREATED for line in self.lines)

    @strawberry.field
    def existing(self) -> int:
        return sum(line.outcome is Outcome.EXISTS for line in self.lines)

    @strawberry.field
    def failed(self) -> int:
        return sum(line.outcome is Outcome.FAILED for line in self.lines)


ImportStationsResult = Annotated[
    StationsImported | NotAuthenticatedError | NotPermittedError | InvalidInputError,
    strawberry.union("ImportStationsResult"),
]


@strawberry.type
class ManagementMutation:
    @strawberry.mutation(description="Add a site (admin).")
    async def create_site(self, info: Info[Context, None], input: SiteInput) -> SiteResult:
        context = info.context
        try:
            site = await management.create_site(
                context.runtime.unit_of_work(), context.principal, site_changes(input)
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return SiteSaved(site=Site.from_model(site))

    @strawberry.mutation(description="Change a site; fields left out stay as they are (admin).")
    async def update_site(
        self, info: Info[Context, None], id: relay.GlobalID, input: SiteInput
    ) -> SiteResult:
        context = info.context
        try:
            site = await management.update_site(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "Site") or 0,
                site_changes(input),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return SiteSaved(site=Site.from_model(site))

    @strawberry.mutation(
        description="Remove a site; its stations stay, without a site (admin). One roaming "
        "partners knew as a Location stays theirs, with its EVSEs REMOVED."
    )
    async def delete_site(self, info: Info[Context, None], id: relay.GlobalID) -> DeleteResult:
        context = info.context
        try:
            await management.delete_site(
                context.runtime.unit_of_work(), context.principal, local_id(id, "Site") or 0
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return Deleted(id=strawberry.ID(str(id)))

    @strawberry.mutation(
        description="Register a station that may connect (admin): security profile 1 with a "
        "generated password (returned once) unless a password or profile 0 is given."
    )
    async def create_station(
        self, info: Info[Context, None], identity: str, input: StationInput | None = None
    ) -> StationResult:
        context = info.context
        try:
            created = await management.create_station(
                context.runtime.unit_of_work(),
                context.principal,
                identity,
                station_changes(input) if input else {},
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return StationSaved(
            station=ChargingStation.from_model(created.station), password=created.password
        )

    @strawberry.mutation(
        description="Register many stations at once (admin), each by createStation's rules; "
        "stations that exist are left as they are, so the same list can be sent again."
    )
    async def import_stations(
        self, info: Info[Context, None], stations: list[StationImportInput]
    ) -> ImportStationsResult:
        context = info.context
        rows = [vars(station) for station in stations]
        try:
            report = await imports.import_stations_for(
                context.runtime.unit_of_work(),
                context.principal,
                rows,
                context.runtime.settings.import_max_lines,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return StationsImported(lines=[ImportReportLine.from_model(line) for line in report])

    @strawberry.mutation(
        description="Change a station: name, site, OCPP password, security profile, ... (admin)."
    )
    async def update_station(
        self, info: Info[Context, None], identity: str, input: StationInput
    ) -> StationResult:
        context = info.context
        try:
            station = await management.update_station(
                context.runtime.unit_of_work(), context.principal, identity, station_changes(input)
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return StationSaved(station=ChargingStation.from_model(station))

    @strawberry.mutation(description="Remove a station that never charged (admin).")
    async def delete_station(self, info: Info[Context, None], identity: str) -> DeleteResult:
        context = info.context
        try:
            station_id = await management.delete_station(
                context.runtime.unit_of_work(), context.principal, identity
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return Deleted(id=strawberry.ID(str(relay.GlobalID("ChargingStation", str(station_id)))))

    @strawberry.mutation(
        description="Accept a station that connected as Pending (operators); a connected one is "
        "asked to boot again at once (TriggerMessage BootNotification) and is accepted."
    )
    async def approve_station(self, info: Info[Context, None], identity: str) -> StationResult:
        context = info.context
        try:
            station = await management.approve_station(
                context.runtime.unit_of_work(), context.principal, identity
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return StationSaved(station=ChargingStation.from_model(station))

    @strawberry.mutation(
        description="Describe a connector (standard, format, power) before or after its station "
        "reports it; the EVSE is created with it (admin)."
    )
    async def create_connector(
        self,
        info: Info[Context, None],
        identity: str,
        evse_id: int,
        connector_id: int,
        input: ConnectorInput | None = None,
    ) -> ConnectorResult:
        context = info.context
        try:
            connector = await management.create_connector(
                context.runtime.unit_of_work(),
                context.principal,
                identity,
                evse_id,
                connector_id,
                given(input) if input else {},
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return ConnectorSaved(connector=Connector.from_model(connector))

    @strawberry.mutation(description="Change a connector's description (admin).")
    async def update_connector(
        self, info: Info[Context, None], id: relay.GlobalID, input: ConnectorInput
    ) -> ConnectorResult:
        context = info.context
        try:
            connector = await management.update_connector(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "Connector") or 0,
                given(input),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return ConnectorSaved(connector=Connector.from_model(connector))

    @strawberry.mutation(
        description="Remove a connector that never charged; an EVSE left empty goes too (admin)."
    )
    async def delete_connector(self, info: Info[Context, None], id: relay.GlobalID) -> DeleteResult:
        context = info.context
        try:
            await management.delete_connector(
                context.runtime.unit_of_work(), context.principal, local_id(id, "Connector") or 0
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return Deleted(id=strawberry.ID(str(id)))
