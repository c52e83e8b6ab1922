"""DataLoaders: every relation a list touches is loaded in one query per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from app.stations import service as stations
from app.stations.models import ConnectorView, SiteView, StationView


async def _load_sites(site_ids: Sequence[int]) -> list[SiteView | None]:
    found = await stations.sites_by_ids(site_ids)
    return [found.get(site_id) for site_id in site_ids]


async def _load_stations_of_sites(site_ids: Sequence[int]) -> list[list[StationView]]:
    found = await stations.stations_by_site_ids(site_ids)
    return [found.get(site_id, []) for site_id in site_ids]


async def _load_connectors(station_ids: Sequence[int]) -> list[list[ConnectorView]]:
    found = await stations.connectors_by_station_ids(station_ids)
    return [found.get(station_id, []) for station_id in station_ids]


@dataclass
class Loaders:
    site: DataLoader[int, SiteView | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_sites)
    )
    stations_of_site: DataLoader[int, list[StationView]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_stations_of_sites)
    )
    connectors_of_station: DataLoader[int, list[ConnectorView]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_connectors)
    )
