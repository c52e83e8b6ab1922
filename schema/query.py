"""Root query: sites and stations with their connectors."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.stations import service as stations
from schema.types import ChargingStation, Site

PAGE_SIZE_DESCRIPTION = "At most 100; larger values are capped."


@strawberry.type
class Query:
    @strawberry.field(description="Sites in creation order.")
    async def sites(
        self,
        limit: Annotated[int, strawberry.argument(description=PAGE_SIZE_DESCRIPTION)] = 50,
        offset: int = 0,
    ) -> list[Site]:
        return [Site.from_model(site) for site in await stations.list_sites(limit, offset)]

    @strawberry.field(description="Charging stations in creation order, optionally of one site.")
    async def stations(
        self,
        limit: Annotated[int, strawberry.argument(description=PAGE_SIZE_DESCRIPTION)] = 50,
        offset: int = 0,
        site_id: int | None = None,
    ) -> list[ChargingStation]:
        found = await stations.list_stations(limit, offset, site_id=site_id)
        return [ChargingStation.from_model(station) for station in found]

    @strawberry.field(description="The station with this OCPP identity.")
    async def station(self, identity: str) -> ChargingStation | None:
        found = await stations.get_station(identity)
        return ChargingStation.from_model(found) if found else None
