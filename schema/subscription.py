"""Root subscription: live events from the bus (one process or, over Redis, many).

Every subscription sees only its caller's organization; filters narrow it further."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import metrics
from app.auth.access import Permission, require
from app.events import (
    AlertChanged,
    CommandCompleted,
    ConnectorStatusChanged,
    DomainEvent,
    SessionChanged,
    StationConnectionChanged,
    StationStatusChanged,
)
from app.stations import service as stations
from schema.alert_types import Alert
from schema.context import Context
from schema.enums import AlertSeverity
from schema.ids import local_id
from schema.types import (
    CommandResultEvent,
    ConnectorStatusEvent,
    SessionEvent,
    StationConnectionEvent,
    StationStatusEvent,
)

E = TypeVar("E", bound=DomainEvent)
T = TypeVar("T")


async def _relay(
    info: Info[Context, None],
    event_type: type[E],
    wanted: Callable[[E], bool],
    convert: Callable[[E], T],
) -> AsyncGenerator[T, None]:
    """The caller's organization's events of one kind that pass `wanted`, as API types."""
    principal = info.context.principal
    require(principal, Permission.READ_NETWORK)
    metrics.GRAPHQL_SUBSCRIPTIONS.inc()
    try:
        async with info.context.runtime.bus.subscribe(event_type) as events:
            async for event in events:
                assert isinstance(event, event_type)
                if getattr(event, "organization_id", None) == principal.organization_id and wanted(
                    event
                ):
                    yield convert(event)
    finally:
        metrics.GRAPHQL_SUBSCRIPTIONS.dec()


async def _station_filter(
    info: Info[Context, None], identity: str | None, site_id: relay.GlobalID | None
) -> Callable[[str, int], bool]:
    """Match by station identity and/or site (the site's stations, as of subscribing)."""
    site = local_id(site_id, "Site")
    in_site = (
        await stations.station_ids_of_site(info.context.principal, site)
        if site is not None
        else None
    )

    def wanted(event_identity: str, station_id: int) -> bool:
        return (identity is None or event_identity == identity) and (
            in_site is None or station_id in in_site
        )

    return wanted


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stations connecting and disconnecting, on any node; optionally one station."
    )
    async def station_connections(
        self, info: Info[Context, None], identity: str | None = None
    ) -> AsyncGenerator[StationConnectionEvent, None]:
        return _relay(
            info,
            StationConnectionChanged,
            lambda event: identity is None or event.identity == identity,
            StationConnectionEvent.from_event,
        )

    @strawberry.subscription(description="A station's own status (connector 0) changing.")
    async def station_status(
        self,
        info: Info[Context, None],
        identity: str | None = None,
        site_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[StationStatusEvent, None]:
        wanted = await _station_filter(info, identity, site_id)
        return _relay(
            info,
            StationStatusChanged,
            lambda event: wanted(event.identity, event.station_id),
            StationStatusEvent.from_event,
        )

    @strawberry.subscription(
        description="Connector statuses with error codes; by station or site, or all of them."
    )
    async def connector_status(
        self,
        info: Info[Context, None],
        identity: str | None = None,
        site_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[ConnectorStatusEvent, None]:
        wanted = await _station_filter(info, identity, site_id)
        return _relay(
            info,
            ConnectorStatusChanged,
            lambda event: wanted(event.identity, event.station_id),
            ConnectorStatusEvent.from_event,
        )

    @strawberry.subscription(
        description="Sessions starting, progressing (energy, power) and ending; by station, "
        "site or one session (its live meter values)."
    )
    async def sessions(
        self,
        info: Info[Context, None],
        identity: str | None = None,
        site_id: relay.GlobalID | None = None,
        session_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[SessionEvent, None]:
        wanted = await _station_filter(info, identity, site_id)
        session = local_id(session_id, "ChargingSession")
        return _relay(
            info,
            SessionChanged,
            lambda event: (
                wanted(event.identity, event.station_id)
                and (session is None or event.session_id == session)
            ),
            SessionEvent.from_event,
        )

    @strawberry.subscription(
        description="Alerts opening and resolving; by station, site or severity."
    )
    async def alerts(
        self,
        info: Info[Context, None],
        identity: str | None = None,
        site_id: relay.GlobalID | None = None,
        severity: AlertSeverity | None = None,
    ) -> AsyncGenerator[Alert, None]:
        station = await stations.get_station(info.context.principal, identity) if identity else None
        in_site = await _station_filter(info, None, site_id)

        def wanted(event: AlertChanged) -> bool:
            if severity is not None and event.severity != severity:
                return False
            if identity is not None and (station is None or event.station_id != station.id):
                return False
            return site_id is None or (
                event.station_id is not None and in_site("", event.station_id)
            )

        return _relay(info, AlertChanged, wanted, Alert.from_event)

    @strawberry.subscription(description="How remote commands ended, from any node.")
    async def command_results(
        self, info: Info[Context, None], identity: str | None = None
    ) -> AsyncGenerator[CommandResultEvent, None]:
        return _relay(
            info,
            CommandCompleted,
            lambda event: identity is None or event.identity == identity,
            CommandResultEvent.from_event,
        )
