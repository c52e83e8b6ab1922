"""Root mutation. Each returns its success type or a typed error (schema.problems)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.unset import UNSET

from app.auth import service as auth
from app.auth.models import Role, UnknownStationPolicy
from app.errors import CPMSError, NotAuthenticated
from schema.access import bearer_secret, client_address
from schema.auth_types import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    LoginSuccess,
    LogoutSuccess,
    Organization,
    User,
    UserCreated,
    UserUpdated,
    Viewer,
)
from schema.context import Context
from schema.ids import local_id
from schema.inputs import given
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    RateLimitedError,
    problem,
)

LoginResult = Annotated[
    LoginSuccess | NotAuthenticatedError | RateLimitedError, strawberry.union("LoginResult")
]
LogoutResult = Annotated[LogoutSuccess | NotAuthenticatedError, strawberry.union("LogoutResult")]
CreateApiKeyResult = Annotated[
    ApiKeyCreated | NotAuthenticatedError | NotPermittedError | InvalidInputError,
    strawberry.union("CreateApiKeyResult"),
]
RevokeApiKeyResult = Annotated[
    ApiKeyRevoked | NotAuthenticatedError | NotPermittedError | NotFoundError,
    strawberry.union("RevokeApiKeyResult"),
]
CreateUserResult = Annotated[
    UserCreated
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | AlreadyExistsError,
    strawberry.union("CreateUserResult"),
]


@strawberry.input
class UserInput:
    name: str | None = UNSET
    role: Role | None = UNSET
    active: bool | None = UNSET
    password: str | None = strawberry.field(
        default=UNSET, description="At least 8 characters; signs the user out everywhere."
    )


UpdateUserResult = Annotated[
    UserUpdated | NotAuthenticatedError | NotPermittedError | InvalidInputError | NotFoundError,
    strawberry.union("UpdateUserResult"),
]


@strawberry.input(description="Organization settings; fields left out stay as they are.")
class OrganizationInput:
    name: str | None = UNSET
    default_currency: str | None = strawberry.field(default=UNSET, description="ISO 4217")
    country_code: str | None = strawberry.field(
        default=UNSET, description="ISO 3166-1 alpha-2; given together with partyId."
    )
    party_id: str | None = strawberry.field(default=UNSET, description="3 letters or digits.")
    unknown_station_policy: UnknownStationPolicy | None = UNSET
    heartbeat_interval_s: int | None = strawberry.field(
        default=UNSET,
        description="The heartbeat interval (10 to 86400 s) stations created from now on "
        "get; a station's own setting is StationInput.heartbeatIntervalS.",
    )
    alert_webhook_url: str | None = strawberry.field(
        default=UNSET, description="http(s) URL alerts are POSTed to; empty turns it off."
    )
    alert_webhook_secret: str | None = strawberry.field(
        default=UNSET,
        description="At least 16 characters; requests carry X-CPMS-Signature: "
        "t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>'>. Never shown again.",
    )


@strawberry.type
class OrganizationSaved:
    organization: Organization


OrganizationResult = Annotated[
    OrganizationSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError
    | AlreadyExistsError,
    strawberry.union("OrganizationResult"),
]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Log in with a password; returns a bearer token.")
    async def login(
        self, info: Info[Context, None], organization: str, email: str, password: str
    ) -> LoginResult:
        runtime = info.context.runtime
        lifetime = timedelta(hours=runtime.settings.login_token_ttl_hours)
        try:
            issued = await auth.login(
                runtime.unit_of_work(),
                runtime.attempts,
                organization,
                email,
                password,
                lifetime,
                address=client_address(info.context.request),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        assert issued.expires_at is not None
        return LoginSuccess(
            token=issued.secret,
            expires_at=issued.expires_at,
            viewer=Viewer.from_model(issued.principal),
        )

    @strawberry.mutation(description="Revoke the login token this request was sent with.")
    async def logout(self, info: Info[Context, None]) -> LogoutResult:
        context = info.context
        secret = bearer_secret(context.request.headers.get("authorization"))
        try:
            principal = context.principal  # raises for an anonymous or refused caller
            if secret is None or principal.user_id is None:
                raise NotAuthenticated("only a login token can log out; revoke API keys instead")
            await auth.logout(context.runtime.unit_of_work(), secret)
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return LogoutSuccess(revoked=True)

    @strawberry.mutation(description="Create an API key (admin). The key is shown only here.")
    async def create_api_key(
        self, info: Info[Context, None], name: str, role: Role
    ) -> CreateApiKeyResult:
        try:
            issued = await auth.create_api_key(
                info.context.runtime.unit_of_work(), info.context.principal, name, role
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        assert issued.api_key is not None
        return ApiKeyCreated(key=issued.secret, api_key=ApiKey.from_model(issued.api_key))

    @strawberry.mutation(description="Revoke an API key (admin); it stops working at once.")
    async def revoke_api_key(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> RevokeApiKeyResult:
        try:
            revoked = await auth.revoke_api_key(
                info.context.runtime.unit_of_work(),
                info.context.principal,
                local_id(id, "ApiKey") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return ApiKeyRevoked(api_key=ApiKey.from_model(revoked))

    @strawberry.mutation(description="Add a user to the caller's organization (admin).")
    async def create_user(
        self,
        info: Info[Context, None],
        email: str,
        role: Role,
        password: str | None = None,
        name: str | None = None,
    ) -> CreateUserResult:
        try:
            created = await auth.create_user(
                info.context.runtime.unit_of_work(),
                info.context.principal,
                email,
                role,
                password,
                name,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return UserCreated(user=User.from_model(created))

    @strawberry.mutation(
        description="Rename, change the role, deactivate (signs out) or set a password (admin)."
    )
    async def update_user(
        self, info: Info[Context, None], id: relay.GlobalID, input: UserInput
    ) -> UpdateUserResult:
        changes = given(input)
        try:
            updated = await auth.update_user(
                info.context.runtime.unit_of_work(),
                info.context.principal,
                local_id(id, "User") or 0,
                changes,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return UserUpdated(user=User.from_model(updated))

    @strawberry.mutation(
        description="Change an organization's settings: an admin their own (id may be left "
        "out), a platform key the one it names."
    )
    async def update_organization(
        self, info: Info[Context, None], input: OrganizationInput, id: relay.GlobalID | None = None
    ) -> OrganizationResult:
        context = info.context
        try:
            organization = await auth.update_organization(
                context.runtime.unit_of_work(),
                context.principal,
                given(input),
                local_id(id, "Organization") if id is not None else None,
                outbound=context.runtime.outbound,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return OrganizationSaved(organization=Organization.from_model(organization))
