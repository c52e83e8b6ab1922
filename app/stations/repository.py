"""Every query of the stations domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.stations.models import ConnectorView, SiteView, StationView
from db.tables import ChargingStation, Connector, Site

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
)
_CONNECTOR_COLUMNS = (
    Connector.id,
    Connector.station,
    Connector.evse.evse_id.as_alias("evse_number"),
    Connector.connector_id,
    Connector.standard,
    Connector.power_type,
    Connector.max_power_w,
    Connector.status,
    Connector.error_code,
)


def _site(row: dict[str, Any]) -> SiteView:
    row["organization_id"] = row.pop("organization")
    return SiteView(**row)


def _station(row: dict[str, Any]) -> StationView:
    row["organization_id"] = row.pop("organization")
    row["site_id"] = row.pop("site")
    return StationView(**row)


def _connector(row: dict[str, Any]) -> ConnectorView:
    row["station_id"] = row.pop("station")
    row["evse_id"] = row.pop("evse_number")
    return ConnectorView(**row)


async def list_sites(limit: int, offset: int) -> list[SiteView]:
    rows = await Site.select(*_SITE_COLUMNS).order_by(Site.id).limit(limit).offset(offset)
    return [_site(row) for row in rows]


async def sites_by_ids(site_ids: Sequence[int]) -> list[SiteView]:
    rows = await Site.select(*_SITE_COLUMNS).where(Site.id.is_in(list(site_ids)))
    return [_site(row) for row in rows]


async def list_stations(limit: int, offset: int, site_id: int | None = None) -> list[StationView]:
    query = ChargingStation.select(*_STATION_COLUMNS)
    if site_id is not None:
        query = query.where(ChargingStation.site == site_id)
    rows = await query.order_by(ChargingStation.id).limit(limit).offset(offset)
    return [_station(row) for row in rows]


async def stations_by_site_ids(site_ids: Sequence[int]) -> list[StationView]:
    rows = (
        await ChargingStation.select(*_STATION_COLUMNS)
        .where(ChargingStation.site.is_in(list(site_ids)))
        .order_by(ChargingStation.id)
    )
    return [_station(row) for row in rows]


async def get_station_by_identity(identity: str) -> StationView | None:
    row = (
        await ChargingStation.select(*_STATION_COLUMNS)
        .where(ChargingStation.identity == identity)
        .first()
    )
    return _station(row) if row else None


async def connectors_by_station_ids(station_ids: Sequence[int]) -> list[ConnectorView]:
    rows = (
        await Connector.select(*_CONNECTOR_COLUMNS)
        .where(Connector.station.is_in(list(station_ids)))
        .order_by(Connector.station, Connector.evse.evse_id, Connector.connector_id)
    )
    return [_connector(row) for row in rows]
