"""The platform level: organizations created, changed and suspended by a platform key."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.auth import organizations
from app.errors import CPMSError
from schema.auth_types import Organization
from schema.context import Context
from schema.ids import local_id
from schema.pagination import After, Before, Connection, First, Last, connection, page_request
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)


@strawberry.input(description="A new organization (a charge point operator).")
class NewOrganizationInput:
    slug: str = strawberry.field(
        description="2 to 63 lowercase letters, digits and hyphens; used at login."
    )
    name: str
    default_currency: str = strawberry.field(default="EUR", description="ISO 4217")
    country_code: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2; given together with partyId."
    )
    party_id: str | None = strawberry.field(default=None, description="3 letters or digits.")


@strawberry.type
class OrganizationCreated:
    organization: Organization


CreateOrganizationResult = Annotated[
    OrganizationCreated
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | AlreadyExistsError,
    strawberry.union("CreateOrganizationResult"),
]

SuspendOrganizationResult = Annotated[
    OrganizationCreated | NotAuthenticatedError | NotPermittedError | NotFoundError,
    strawberry.union("SuspendOrganizationResult"),
]


@strawberry.type
class PlatformMutation:
    @strawberry.mutation(description="Create an organization (platform key).")
    async def create_organization(
        self, info: Info[Context, None], input: NewOrganizationInput
    ) -> CreateOrganizationResult:
        context = info.context
        try:
            created = await organizations.create_organization(
                context.runtime.unit_of_work(), context.principal, vars(input)
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return OrganizationCreated(organization=Organization.from_model(created))

    @strawberry.mutation(
        description="Suspend an organization (its users and API keys are refused at once) or, "
        "with suspended: false, lift the suspension (platform key)."
    )
    async def suspend_organization(
        self, info: Info[Context, None], id: relay.GlobalID, suspended: bool = True
    ) -> SuspendOrganizationResult:
        context = info.context
        try:
            changed = await organizations.suspend_organization(
                context.runtime.unit_of_work(),
                context.principal,
                local_id(id, "Organization") or 0,
                suspended,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return OrganizationCreated(organization=Organization.from_model(changed))


async def all_organizations(
    info: Info[Context, None],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> Connection[Organization]:
    """Every organization, oldest first (platform key)."""
    request = page_request(first, after, last, before)
    page = await organizations.page_organizations(info.context.principal, request)
    return connection(page, Organization.from_model)
