"""GraphQL types of charging sessions and their meter series."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.sessions import service as sessions
from app.sessions.models import MeterPoint as MeterPointValue
from app.sessions.models import SessionOrder, SessionView
from schema.context import Context
from schema.enums import SessionLifecycle
from schema.ids import nodes_by_id

if TYPE_CHECKING:
    from schema.auth_types import User
    from schema.billing_types import Cdr
    from schema.id_tokens import IdToken
    from schema.types import ChargingStation

strawberry.enum(SessionOrder, description="Order of a session list.")

MAX_CHART_POINTS = 2000


@strawberry.type(description="A point of a session's chart.")
class MeterPoint:
    at: datetime
    energy_wh: int | None = strawberry.field(description="Charged since the start, in Wh.")
    power_w: int | None

    @classmethod
    def from_model(cls, model: MeterPointValue) -> MeterPoint:
        return cls(at=model.at, energy_wh=model.energy_wh, power_w=model.power_w)


@strawberry.type
class ChargingSession(relay.Node):
    id: relay.NodeID[int]
    transaction_id: str
    state: SessionLifecycle
    charging_state: str | None
    evse_id: int | None
    connector_id: int | None
    id_tag: str | None
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int
    power_w: int | None
    stored_cost_minor: strawberry.Private[int | None]
    stored_currency: strawberry.Private[str | None]
    stop_reason: str | None
    offline: bool = strawberry.field(description="Started or ended while the station was offline.")
    station_reachable: bool = strawberry.field(
        description="Whether the station is connected now: while it is not, a running session's "
        "figures are its last report and commands to it fail"
    )
    station_id: strawberry.Private[int]
    id_token_id: strawberry.Private[int | None]
    user_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, model: SessionView) -> ChargingSession:
        return cls(
            id=model.id,
            transaction_id=model.transaction_id,
            state=SessionLifecycle(model.state),
            charging_state=model.charging_state,
            evse_id=model.evse_id,
            connector_id=model.connector_id,
            id_tag=model.id_tag,
            started_at=model.started_at,
            ended_at=model.ended_at,
            meter_start_wh=model.meter_start_wh,
            meter_stop_wh=model.meter_stop_wh,
            energy_wh=model.energy_wh,
            power_w=model.power_w,
            stored_cost_minor=model.cost_minor,
            stored_currency=model.currency,
            stop_reason=model.stop_reason,
            offline=model.offline,
            station_reachable=model.station_connected,
            station_id=model.station_id,
            id_token_id=model.id_token_id,
            user_id=model.user_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[ChargingSession | None]:
        return await nodes_by_id(
            node_ids, partial(sessions.sessions_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field(
        description="Incl. VAT, in minor units: so far while it runs (energy and time since "
        "the start at the tariff it started under), then the CDR's total."
    )
    async def cost_minor(self, info: Info[Context, None]) -> int | None:
        if self.state != "active":
            return self.stored_cost_minor
        running = await info.context.loaders.running_cost.load(
            (int(self.id), self.started_at, self.energy_wh)
        )
        return running[0] if running else None

    @strawberry.field
    async def currency(self, info: Info[Context, None]) -> str | None:
        return self.stored_currency

    @strawberry.field
    async def station(
        self, info: Info[Context, None]
    ) -> Annotated[ChargingStation, strawberry.lazy("schema.types")] | None:
        from schema.types import ChargingStation

        station = await info.context.loaders.station.load(self.station_id)
        return ChargingStation.from_model(station) if station else None

    @strawberry.field(description="The id token the session was started with, if known.")
    async def id_token(
        self, info: Info[Context, None]
    ) -> Annotated[IdToken, strawberry.lazy("schema.id_tokens")] | None:
        from schema.id_tokens import IdToken

        if self.id_token_id is None:
            return None
        token = await info.context.loaders.id_token.load(self.id_token_id)
        return IdToken.from_model(token) if token else None

    @strawberry.field(description="The driver the session charges for, if known.")
    async def user(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.auth_types")] | None:
        from schema.auth_types import User

        if self.user_id is None:
            return None
        user = await info.context.loaders.user.load(self.user_id)
        return User.from_model(user) if user else None

    @strawberry.field(
        description="The session's charge detail records: one, or more after a correction."
    )
    async def cdrs(
        self, info: Info[Context, None]
    ) -> list[Annotated[Cdr, strawberry.lazy("schema.billing_types")]]:
        from schema.billing_types import Cdr

        found = await info.context.loaders.cdrs_of_session.load(int(self.id))
        return [Cdr.from_model(cdr) for cdr in found]

    @strawberry.field(
        description="Energy and power over time for a chart, at most `maxPoints` points."
    )
    async def meter_values(
        self, info: Info[Context, None], max_points: int = 500
    ) -> list[MeterPoint]:
        points = await sessions.meter_chart(
            info.context.principal, int(self.id), max(1, min(max_points, MAX_CHART_POINTS))
        )
        return [MeterPoint.from_model(point) for point in points]
