"""Dashboard figures: each field is one indexed, grouped query, run only when asked for."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from app.billing import service as billing
from app.healing import service as healing
from app.sessions import service as sessions
from app.stations import service as stations
from schema.context import Context
from schema.enums import AlertSeverity, ConnectorStatus


@strawberry.type
class ConnectorStatusCount:
    status: ConnectorStatus
    count: int


@strawberry.type
class SeverityCount:
    severity: AlertSeverity
    count: int


@strawberry.type(description="An exact amount in minor units (cents) of its currency.")
class Money:
    amount_minor: int
    currency: str


@strawberry.type(description="The network at a glance, for the organization or one site.")
class Dashboard:
    site_id: strawberry.Private[int | None]
    started_from: datetime | None = strawberry.field(description="Start of the period.")
    started_before: datetime | None = strawberry.field(description="End of the period.")

    @strawberry.field(description="Stations in total and online now, and by status.")
    async def stations(self, info: Info[Context, None]) -> StationFigures:
        counts = await stations.network_counts(info.context.principal, self.site_id)
        return StationFigures(
            total=counts.stations,
            online=counts.stations_online,
            online_ratio=counts.stations_online / counts.stations if counts.stations else 0.0,
            by_status=_counts(counts.stations_by_status),
            connectors_by_status=_counts(counts.connectors_by_status),
        )

    @strawberry.field(description="Running sessions now; sessions and energy in the period.")
    async def sessions(self, info: Info[Context, None]) -> SessionFigures:
        totals = await sessions.session_totals(
            info.context.principal, self.site_id, self.started_from, self.started_before
        )
        return SessionFigures(
            active=totals.active, started=totals.sessions, energy_wh=totals.energy_wh
        )

    @strawberry.field(description="Revenue incl. VAT of charges that ended in the period.")
    async def revenue(self, info: Info[Context, None]) -> list[Money]:
        amounts = await billing.revenue(
            info.context.principal, self.site_id, self.started_from, self.started_before
        )
        return [Money(amount_minor=m.amount_minor, currency=m.currency) for m in amounts]

    @strawberry.field(description="Open alerts by severity.")
    async def open_alerts(self, info: Info[Context, None]) -> list[SeverityCount]:
        counts = await healing.open_alerts_by_severity(info.context.principal, self.site_id)
        return [
            SeverityCount(severity=AlertSeverity(k), count=v) for k, v in sorted(counts.items())
        ]


@strawberry.type
class StationFigures:
    total: int
    online: int
    online_ratio: float
    by_status: list[ConnectorStatusCount] = strawberry.field(
        description="Stations by their own (EVSE 0) status, normalised as a connector's."
    )
    connectors_by_status: list[ConnectorStatusCount] = strawberry.field(
        description="Connectors of offline stations count as OFFLINE, not as their last status."
    )


@strawberry.type
class SessionFigures:
    active: int = strawberry.field(description="Running now.")
    started: int = strawberry.field(description="Started in the period.")
    energy_wh: int = strawberry.field(description="Charged by the sessions started in it.")


def _counts(by_status: dict[str, int]) -> list[ConnectorStatusCount]:
    return [
        ConnectorStatusCount(status=ConnectorStatus(status), count=count)
        for status, count in sorted(by_status.items())
    ]
