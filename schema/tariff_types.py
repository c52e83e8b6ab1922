"""GraphQL types and mutations of tariffs: OCPI 2.2.1-shaped, assigned to places, and the price
a driver sees before charging."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.unset import UNSET

from app.errors import CPMSError
from app.tariffs import service as tariffs
from app.tariffs.models import (
    ApplicableComponent,
    Dimension,
    TariffAssignmentView,
    TariffView,
)
from schema.context import Context
from schema.enums import TariffType
from schema.ids import global_id, local_id, nodes_by_id
from schema.inputs import given
from schema.json_keys import camel_keys, snake_keys
from schema.pagination import After, Before, Connection, First, Last, connection, page_request
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)

strawberry.enum(Dimension, name="PriceDimension", description="What a price component is for.")


@strawberry.type(description="Where a tariff applies, and for whom.")
class TariffAssignment:
    id: relay.GlobalID
    site_id: relay.GlobalID | None
    station_id: relay.GlobalID | None
    connector_id: relay.GlobalID | None
    token_group_id: str | None = strawberry.field(description="Only for this token group.")
    partner_id: relay.GlobalID | None = strawberry.field(description="Only for this partner.")

    @classmethod
    def from_model(cls, model: TariffAssignmentView) -> TariffAssignment:
        def optional(type_name: str, row_id: int | None) -> relay.GlobalID | None:
            return global_id(type_name, row_id) if row_id is not None else None

        return cls(
            id=global_id("TariffAssignment", model.id),
            site_id=optional("Site", model.site_id),
            station_id=optional("ChargingStation", model.station_id),
            connector_id=optional("Connector", model.connector_id),
            token_group_id=model.token_group_id,
            partner_id=optional("Partner", model.partner_id),
        )


@strawberry.type(description="An OCPI 2.2.1 tariff. Prices are excl. VAT, in major units.")
class Tariff(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="The OCPI tariff id")
    name: str
    currency: str
    type: TariffType | None
    elements: list[dict[str, Any]] = strawberry.field(
        graphql_type=JSON, description="OCPI elements: price components and restrictions."
    )
    min_price_minor: int | None = strawberry.field(description="Per session, excl. VAT.")
    max_price_minor: int | None
    alt_text: list[dict[str, Any]] = strawberry.field(graphql_type=JSON)
    start_at: datetime | None
    end_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_model(cls, model: TariffView) -> Tariff:
        return cls(
            id=model.id,
            code=model.code,
            name=model.name,
            currency=model.currency,
            type=TariffType(model.type) if model.type else None,
            elements=camel_keys(model.elements),
            min_price_minor=model.min_price_minor,
            max_price_minor=model.max_price_minor,
            alt_text=camel_keys(model.alt_text),
            start_at=model.start_at,
            end_at=model.end_at,
            updated_at=model.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Tariff | None]:
        return await nodes_by_id(
            node_ids, partial(tariffs.tariffs_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field(description="Where it applies, oldest assignment first.")
    async def assignments(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[TariffAssignment]:
        page = await tariffs.page_assignments(
            info.context.principal, int(self.id), page_request(first, after, last, before)
        )
        return connection(page, TariffAssignment.from_model)


@strawberry.type(description="One price of the tariff that applies now.")
class PriceNow:
    dimension: Dimension
    price_excl_vat: Decimal = strawberry.field(description="Per kWh, hour or session.")
    price_incl_vat: Decimal
    vat_percent: Decimal | None
    step_size: int = strawberry.field(description="Billed per this many Wh or seconds.")
    conditions: list[str] = strawberry.field(description="When it applies, in words.")
    description: str = strawberry.field(description='e.g. "0.4641 EUR per kWh incl. 19% VAT"')

    @classmethod
    def from_model(cls, model: ApplicableComponent) -> PriceNow:
        return cls(
            dimension=model.dimension,
            price_excl_vat=model.component.price,
            price_incl_vat=model.price_incl_vat,
            vat_percent=model.component.vat,
            step_size=model.component.step_size,
            conditions=list(model.conditions),
            description=model.description,
        )


@strawberry.type(description="The price at a connector now, shown before a session starts.")
class PricePreview:
    tariff: Tariff
    at: datetime = strawberry.field(description="The site's local time it was computed for.")
    currency: str
    prices: list[PriceNow]
    notes: list[str] = strawberry.field(description="Minimum and maximum price of a session.")

    @classmethod
    def from_model(cls, model: tariffs.PricePreview) -> PricePreview:
        return cls(
            tariff=Tariff.from_model(model.tariff),
            at=model.prices.at,
            currency=model.prices.currency,
            prices=[PriceNow.from_model(component) for component in model.prices.components],
            notes=list(model.prices.notes),
        )


@strawberry.input(description="A tariff; on update, fields left out stay as they are.")
class TariffInput:
    code: str | None = strawberry.field(default=UNSET, description="The OCPI tariff id")
    name: str | None = UNSET
    currency: str | None = strawberry.field(default=UNSET, description="ISO 4217")
    type: TariffType | None = UNSET
    elements: JSON | None = strawberry.field(
        default=UNSET,
        description="OCPI elements: [{priceComponents: [{type, price, vat, stepSize}], "
        "restrictions: {startTime, dayOfWeek, minKwh, ...}}]; prices excl. VAT.",
    )
    min_price_minor: int | None = UNSET
    max_price_minor: int | None = UNSET
    alt_text: JSON | None = UNSET
    start_at: datetime | None = UNSET
    end_at: datetime | None = UNSET

    def values(self) -> dict[str, Any]:
        """The fields sent, OCPI objects with the core's snake_case keys."""
        values = given(self)
        for name in ("elements", "alt_text"):
            if values.get(name) is not None:
                values[name] = snake_keys(values[name])
        return values


@strawberry.input(description="Where a tariff applies: at most one place; none: everywhere.")
class TariffScopeInput:
    site_id: relay.GlobalID | None = None
    station_id: relay.GlobalID | None = None
    connector_id: relay.GlobalID | None = None
    token_group_id: str | None = None
    partner_id: relay.GlobalID | None = None

    def to_model(self, tariff_id: int) -> TariffAssignmentView:
        return TariffAssignmentView(
            id=0,
            tariff_id=tariff_id,
            site_id=local_id(self.site_id, "Site"),
            station_id=local_id(self.station_id, "ChargingStation"),
            connector_id=local_id(self.connector_id, "Connector"),
            token_group_id=self.token_group_id,
            partner_id=local_id(self.partner_id, "Partner"),
        )


@strawberry.type
class TariffSaved:
    tariff: Tariff


@strawberry.type
class TariffAssigned:
    assignment: TariffAssignment


@strawberry.type
class TariffRemoved:
    id: relay.GlobalID


TariffResult = Annotated[
    TariffSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError
    | AlreadyExistsError,
    strawberry.union("TariffResult"),
]
AssignResult = Annotated[
    TariffAssigned | NotAuthenticatedError | NotPermittedError | InvalidInputError | NotFoundError,
    strawberry.union("AssignTariffResult"),
]
RemoveResult = Annotated[
    TariffRemoved | NotAuthenticatedError | NotPermittedError | InvalidInputError | NotFoundError,
    strawberry.union("RemoveTariffResult"),
]


@strawberry.type
class TariffMutation:
    @strawberry.mutation(description="Add a tariff (admin).")
    async def create_tariff(self, info: Info[Context, None], input: TariffInput) -> TariffResult:
        context = info.context
        try:
            tariff = await tariffs.create_tariff(
                context.runtime.unit_of_work(), context.principal, input.values()
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return TariffSaved(tariff=Tariff.from_model(tariff))

    @strawberry.mutation(
        description="Change a tariff (admin); running sessions keep the one they started with."
    )
    async def update_tariff(
        self, info: Info[Context, None], id: relay.GlobalID, input: TariffInput
    ) -> TariffResult:
        context = info.context
        try:
            tariff = await tariffs.update_tariff(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "Tariff") or 0,
                input.values(),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return TariffSaved(tariff=Tariff.from_model(tariff))

    @strawberry.mutation(description="Remove a tariff and its assignments (admin).")
    async def delete_tariff(self, info: Info[Context, None], id: relay.GlobalID) -> RemoveResult:
        context = info.context
        try:
            await tariffs.delete_tariff(
                context.runtime.unit_of_work(), context.principal, local_id(id, "Tariff") or 0
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return TariffRemoved(id=id)

    @strawberry.mutation(
        description="Apply a tariff to the organization, a site, a station or a connector, "
        "optionally only for a token group or partner; it replaces the tariff assigned to "
        "exactly that place and narrowing (admin). The most specific assignment wins."
    )
    async def assign_tariff(
        self,
        info: Info[Context, None],
        tariff_id: relay.GlobalID,
        scope: TariffScopeInput | None = None,
    ) -> AssignResult:
        context = info.context
        try:
            local = local_id(tariff_id, "Tariff") or 0
            assignment = await tariffs.assign_tariff(
                context.runtime.unit_of_work(),
                context.principal,
                local,
                (scope or TariffScopeInput()).to_model(local),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return TariffAssigned(assignment=TariffAssignment.from_model(assignment))

    @strawberry.mutation(description="Stop applying a tariff there (admin).")
    async def unassign_tariff(
        self, info: Info[Context, None], assignment_id: relay.GlobalID
    ) -> RemoveResult:
        context = info.context
        try:
            await tariffs.unassign_tariff(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(assignment_id, "TariffAssignment") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return TariffRemoved(id=assignment_id)
