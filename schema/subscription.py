"""Root subscription: live events from the bus (one process or, over Redis, many)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app import metrics
from app.auth.access import Permission, require
from app.events import StationConnectionChanged
from schema.context import Context
from schema.types import StationConnectionEvent


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stations connecting and disconnecting, on any node; optionally one station."
    )
    async def station_connections(
        self, info: Info[Context, None], identity: str | None = None
    ) -> AsyncGenerator[StationConnectionEvent, None]:
        principal = info.context.principal
        require(principal, Permission.READ_NETWORK)
        metrics.GRAPHQL_SUBSCRIPTIONS.inc()
        try:
            async with info.context.runtime.bus.subscribe(StationConnectionChanged) as events:
                async for event in events:
                    assert isinstance(event, StationConnectionChanged)
                    if event.organization_id != principal.organization_id:
                        continue
                    if identity is not None and event.identity != identity:
                        continue
                    yield StationConnectionEvent(
                        identity=event.identity,
                        connected=event.connected,
                        protocol=event.protocol,
                        node_id=event.node_id,
                        occurred_at=event.occurred_at,
                    )
        finally:
            metrics.GRAPHQL_SUBSCRIPTIONS.dec()
