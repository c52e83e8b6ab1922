"""Uptime reports (NEVI formula) and planned maintenance, which uptime leaves out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import CPMSError
from app.healing import service as healing
from app.healing.models import MaintenanceView
from app.healing.uptime import Availability
from app.stations import service as stations
from schema.context import Context
from schema.ids import global_id, local_id
from schema.problems import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)


@strawberry.type(
    description="Availability over a period: (observed - (outage - excluded)) / observed."
)
class Uptime:
    start: datetime
    end: datetime
    uptime_percent: Decimal | None = strawberry.field(
        description="Rounded half up to 2 decimals; null when nothing was observed."
    )
    observed_s: Decimal = strawberry.field(description="Seconds with a known state.")
    operative_s: Decimal
    outage_s: Decimal = strawberry.field(description="Faulted, Unavailable or offline.")
    excluded_outage_s: Decimal = strawberry.field(description="Outage during maintenance.")

    @classmethod
    def from_model(cls, model: Availability) -> Uptime:
        return cls(
            start=model.start,
            end=model.end,
            uptime_percent=model.uptime_percent,
            observed_s=model.observed_s,
            operative_s=model.operative_s,
            outage_s=model.outage_s,
            excluded_outage_s=model.excluded_outage_s,
        )


@strawberry.type
class UptimeDay:
    day: date = strawberry.field(description="A day in the site's time zone.")
    uptime: Uptime


@strawberry.type(description="Per day, over the days asked for, and over the last 12 months.")
class UptimeReport:
    days: list[UptimeDay]
    period: Uptime
    last_12_months: Uptime = strawberry.field(description="525,600 minutes ending now (NEVI).")

    @classmethod
    def from_model(cls, model: healing.UptimeReport) -> UptimeReport:
        return cls(
            days=[
                UptimeDay(day=d.day, uptime=Uptime.from_model(d.availability)) for d in model.days
            ],
            period=Uptime.from_model(model.period),
            last_12_months=Uptime.from_model(model.last_12_months),
        )


async def connector_report(
    info: Info[Context, None],
    connector_ids: list[int],
    site_id: int | None,
    first_day: date,
    last_day: date,
) -> UptimeReport:
    principal = info.context.principal
    connectors = list((await stations.connectors_by_ids(principal, connector_ids)).values())
    site = (
        (await stations.sites_by_ids(principal, [site_id])).get(site_id)
        if site_id is not None
        else None
    )
    report = await healing.uptime_of_connectors(
        principal, connectors, site.time_zone if site else "UTC", first_day, last_day
    )
    return UptimeReport.from_model(report)


@strawberry.type(description="Planned downtime: outage inside it does not lower uptime.")
class MaintenanceWindow:
    id: relay.GlobalID
    station_id: relay.GlobalID
    connector_id: relay.GlobalID | None = strawberry.field(description="Null: the station.")
    starts_at: datetime
    ends_at: datetime
    reason: str | None

    @classmethod
    def from_model(cls, model: MaintenanceView) -> MaintenanceWindow:
        return cls(
            id=global_id("MaintenanceWindow", model.id),
            station_id=global_id("ChargingStation", model.station_id),
            connector_id=(
                global_id("Connector", model.connector_id) if model.connector_id else None
            ),
            starts_at=model.starts_at,
            ends_at=model.ends_at,
            reason=model.reason,
        )


@strawberry.type
class MaintenanceScheduled:
    window: MaintenanceWindow


@strawberry.type
class MaintenanceCancelled:
    id: relay.GlobalID


MaintenanceResult = Annotated[
    MaintenanceScheduled
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError,
    strawberry.union("MaintenanceResult"),
]
CancelMaintenanceResult = Annotated[
    MaintenanceCancelled | NotAuthenticatedError | NotPermittedError | NotFoundError,
    strawberry.union("CancelMaintenanceResult"),
]


@strawberry.type
class MaintenanceMutation:
    @strawberry.mutation(
        description="Plan downtime for a station or one connector (operators); outage inside "
        "it is excluded from uptime."
    )
    async def schedule_maintenance(
        self,
        info: Info[Context, None],
        station_id: relay.GlobalID,
        starts_at: datetime,
        ends_at: datetime,
        connector_id: relay.GlobalID | None = None,
        reason: str | None = None,
    ) -> MaintenanceResult:
        context = info.context
        try:
            window = await healing.schedule_maintenance(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(station_id, "ChargingStation") or 0,
                local_id(connector_id, "Connector"),
                starts_at,
                ends_at,
                reason,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return MaintenanceScheduled(window=MaintenanceWindow.from_model(window))

    @strawberry.mutation(description="Remove a maintenance window (operators).")
    async def cancel_maintenance(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> CancelMaintenanceResult:
        context = info.context
        try:
            await healing.cancel_maintenance(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "MaintenanceWindow") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return MaintenanceCancelled(id=id)
