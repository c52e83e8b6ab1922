"""Use cases of the stations domain: the only entry for adapters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from app.stations import repository
from app.stations.models import ConnectorView, SiteView, StationView

MAX_PAGE_SIZE = 100


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(0, min(limit, MAX_PAGE_SIZE)), max(0, offset)


async def list_sites(limit: int = 50, offset: int = 0) -> list[SiteView]:
    """Sites in creation order, at most MAX_PAGE_SIZE at a time."""
    return await repository.list_sites(*_page(limit, offset))


async def list_stations(
    limit: int = 50, offset: int = 0, site_id: int | None = None
) -> list[StationView]:
    """Stations in creation order, optionally of one site, at most MAX_PAGE_SIZE at a time."""
    return await repository.list_stations(*_page(limit, offset), site_id=site_id)


async def get_station(identity: str) -> StationView | None:
    """The station with this OCPP identity, if any."""
    return await repository.get_station_by_identity(identity)


async def sites_by_ids(site_ids: Sequence[int]) -> dict[int, SiteView]:
    """Sites keyed by id, for batch loading."""
    return {site.id: site for site in await repository.sites_by_ids(site_ids)}


async def stations_by_site_ids(site_ids: Sequence[int]) -> dict[int, list[StationView]]:
    """Each site's stations, for batch loading."""
    grouped: dict[int, list[StationView]] = defaultdict(list)
    for station in await repository.stations_by_site_ids(site_ids):
        if station.site_id is not None:
            grouped[station.site_id].append(station)
    return grouped


async def connectors_by_station_ids(station_ids: Sequence[int]) -> dict[int, list[ConnectorView]]:
    """Each station's connectors ordered by EVSE and connector number, for batch loading."""
    grouped: dict[int, list[ConnectorView]] = defaultdict(list)
    for connector in await repository.connectors_by_station_ids(station_ids):
        grouped[connector.station_id].append(connector)
    return grouped
