"""Demand response: windows in which a grid operator asks a site to draw less."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import CPMSError
from app.smart_charging import service as smart_charging
from app.smart_charging.models import DemandResponseEventView, DemandResponseSource
from schema.context import Context
from schema.ids import local_id, nodes_by_id
from schema.problems import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)

if TYPE_CHECKING:
    from schema.types import Site

strawberry.enum(DemandResponseSource, description="Who asked a site to draw less.")


@strawberry.type(
    description="A window in which a site draws at most limitA per phase; the lower of it and "
    "the site's grid capacity applies. A cancelled event ends when it was cancelled."
)
class DemandResponseEvent(relay.Node):
    id: relay.NodeID[int]
    starts_at: datetime
    ends_at: datetime
    limit_a: Decimal = strawberry.field(description="Amperes per phase; 0: nothing.")
    source: DemandResponseSource
    cancelled: bool
    created_at: datetime
    site_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, model: DemandResponseEventView) -> DemandResponseEvent:
        return cls(
            id=model.id,
            starts_at=model.starts_at,
            ends_at=model.ends_at,
            limit_a=model.limit_a,
            source=DemandResponseSource(model.source),
            cancelled=model.cancelled,
            created_at=model.created_at,
            site_id=model.site_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[DemandResponseEvent | None]:
        return await nodes_by_id(
            node_ids,
            partial(smart_charging.demand_response_events_by_ids, info.context.principal),
            cls.from_model,
        )

    @strawberry.field
    async def site(
        self, info: Info[Context, None]
    ) -> Annotated[Site, strawberry.lazy("schema.types")] | None:
        from schema.types import Site

        site = await info.context.loaders.site.load(self.site_id)
        return Site.from_model(site) if site else None


@strawberry.input
class DemandResponseEventInput:
    site_id: relay.GlobalID
    starts_at: datetime = strawberry.field(description="With a time zone offset.")
    ends_at: datetime = strawberry.field(description="After startsAt, and in the future.")
    limit_a: Decimal = strawberry.field(
        description="Amperes per phase the site may draw in the window, to a tenth; 0: nothing."
    )


@strawberry.type
class DemandResponseEventSaved:
    event: DemandResponseEvent


DemandResponseEventResult = Annotated[
    DemandResponseEventSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError,
    strawberry.union("DemandResponseEventResult"),
]


@strawberry.type
class DemandResponseMutation:
    @strawberry.mutation(
        description="Lower a site's capacity to limitA per phase from startsAt to endsAt "
        "(operators), as a grid operator asked. At most 100 events to come per site."
    )
    async def create_demand_response_event(
        self, info: Info[Context, None], input: DemandResponseEventInput
    ) -> DemandResponseEventResult:
        context = info.context
        try:
            event = await smart_charging.create_demand_response_event(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(input.site_id, "Site") or 0,
                (input.starts_at, input.ends_at),
                input.limit_a,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return DemandResponseEventSaved(event=DemandResponseEvent.from_model(event))

    @strawberry.mutation(
        description="End a demand response event now (operators); one not begun yet never "
        "begins, one already over stays as it was."
    )
    async def cancel_demand_response_event(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> DemandResponseEventResult:
        context = info.context
        try:
            event = await smart_charging.cancel_demand_response_event(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "DemandResponseEvent") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return DemandResponseEventSaved(event=DemandResponseEvent.from_model(event))
