"""Root query: sites and stations with their connectors."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.auth import service as auth
from app.stations import service as stations
from schema.auth_types import ApiKey, Viewer
from schema.context import Context
from schema.types import ChargingStation, Site

PAGE_SIZE_DESCRIPTION = "At most 100; larger values are capped."


@strawberry.type
class Query:
    @strawberry.field(description="Who is calling: organization, role, user or API key.")
    async def viewer(self, info: Info[Context, None]) -> Viewer:
        return Viewer.from_model(info.context.principal)

    @strawberry.field(description="The organization's API keys (admin).")
    async def api_keys(self, info: Info[Context, None]) -> list[ApiKey]:
        return [ApiKey.from_model(key) for key in await auth.api_keys(info.context.principal)]

    @strawberry.field(description="Sites in creation order.")
    async def sites(
        self,
        info: Info[Context, None],
        limit: Annotated[int, strawberry.argument(description=PAGE_SIZE_DESCRIPTION)] = 50,
        offset: int = 0,
    ) -> list[Site]:
        found = await stations.list_sites(info.context.principal, limit, offset)
        return [Site.from_model(site) for site in found]

    @strawberry.field(description="Charging stations in creation order, optionally of one site.")
    async def stations(
        self,
        info: Info[Context, None],
        limit: Annotated[int, strawberry.argument(description=PAGE_SIZE_DESCRIPTION)] = 50,
        offset: int = 0,
        site_id: int | None = None,
    ) -> list[ChargingStation]:
        found = await stations.list_stations(info.context.principal, limit, offset, site_id=site_id)
        return [ChargingStation.from_model(station) for station in found]

    @strawberry.field(description="The station with this OCPP identity.")
    async def station(self, info: Info[Context, None], identity: str) -> ChargingStation | None:
        found = await stations.get_station(info.context.principal, identity)
        return ChargingStation.from_model(found) if found else None
