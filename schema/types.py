"""GraphQL object types, each built from a domain value object."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from app.stations.models import ConnectorView, SiteView, StationView
from schema.context import Context


@strawberry.type
class Connector:
    id: int
    evse_id: int = strawberry.field(description="EVSE number within the station")
    connector_id: int = strawberry.field(description="Connector number within the EVSE")
    standard: str
    power_type: str
    max_power_w: int
    status: str
    error_code: str | None

    @classmethod
    def from_model(cls, model: ConnectorView) -> Connector:
        return cls(
            id=model.id,
            evse_id=model.evse_id,
            connector_id=model.connector_id,
            standard=model.standard,
            power_type=model.power_type,
            max_power_w=model.max_power_w,
            status=model.status,
            error_code=model.error_code,
        )


@strawberry.type
class ChargingStation:
    id: int
    identity: str = strawberry.field(description="OCPP identity: the last path segment of its URL")
    name: str | None
    protocol: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    registration_status: str
    status: str
    connected: bool
    last_seen_at: datetime | None
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
            registration_status=model.registration_status,
            status=model.status,
            connected=model.connected,
            last_seen_at=model.last_seen_at,
            site_id=model.site_id,
        )

    @strawberry.field
    async def connectors(self, info: Info[Context, None]) -> list[Connector]:
        connectors = await info.context.loaders.connectors_of_station.load(self.id)
        return [Connector.from_model(connector) for connector in connectors]

    @strawberry.field
    async def site(self, info: Info[Context, None]) -> Site | None:
        if self.site_id is None:
            return None
        site = await info.context.loaders.site.load(self.site_id)
        return Site.from_model(site) if site else None


@strawberry.type
class Site:
    id: int
    name: str
    address: str | None
    city: str | None
    postal_code: str | None
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    time_zone: str

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
        )

    @strawberry.field
    async def stations(self, info: Info[Context, None]) -> list[ChargingStation]:
        stations = await info.context.loaders.stations_of_site.load(self.id)
        return [ChargingStation.from_model(station) for station in stations]


@strawberry.type
class StationConnectionEvent:
    identity: str
    connected: bool
    protocol: str | None
    node_id: str
    occurred_at: datetime
