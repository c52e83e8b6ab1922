"""Reservations: an EVSE held for an id token, as the station accepted it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.stations import service as stations
from app.stations.models import ReservationFilter, ReservationView
from schema.context import Context
from schema.enums import ReservationStatus
from schema.ids import local_id, nodes_by_id

if TYPE_CHECKING:
    from schema.types import ChargingStation


@strawberry.type
class Reservation(relay.Node):
    id: relay.NodeID[int]
    reservation_id: int = strawberry.field(description="The id the station knows it by.")
    evse_id: int | None = strawberry.field(description="EVSE number; null: any EVSE.")
    id_tag: str
    expires_at: datetime
    status: ReservationStatus
    created_at: datetime
    station_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, model: ReservationView) -> Reservation:
        return cls(
            id=model.id,
            reservation_id=model.reservation_id,
            evse_id=model.evse_id,
            id_tag=model.id_tag,
            expires_at=model.expires_at,
            status=ReservationStatus(model.status),
            created_at=model.created_at,
            station_id=model.station_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Reservation | None]:
        return await nodes_by_id(
            node_ids, partial(stations.reservations_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def station(
        self, info: Info[Context, None]
    ) -> Annotated[ChargingStation, strawberry.lazy("schema.types")] | None:
        from schema.types import ChargingStation

        station = await info.context.loaders.station.load(self.station_id)
        return ChargingStation.from_model(station) if station else None


@strawberry.input
class ReservationFilterInput:
    station_id: relay.GlobalID | None = None
    status: ReservationStatus | None = strawberry.field(
        default=None, description="ACTIVE: not yet expired; EXPIRED: including lapsed ones."
    )

    def to_model(self) -> ReservationFilter:
        return ReservationFilter(
            station_id=local_id(self.station_id, "ChargingStation"), status=self.status
        )
