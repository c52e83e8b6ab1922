"""GraphQL types of authentication: who is calling, login tokens, API keys, users."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.auth import service as auth
from app.auth.access import Permission, may
from app.auth.models import (
    ApiKeyView,
    OrganizationView,
    Principal,
    Role,
    UnknownStationPolicy,
    UserView,
)
from schema.context import Context
from schema.ids import global_id, nodes_by_id

strawberry.enum(Role, description="What a caller may do within its organization.")
strawberry.enum(UnknownStationPolicy, description="What happens when an unknown station connects.")


@strawberry.type(description="A charge point operator: everything belongs to one.")
class Organization(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="Short name used at login and in station URLs.")
    unknown_station_policy: UnknownStationPolicy
    default_currency: str = strawberry.field(description="ISO 4217, e.g. EUR")
    country_code: str | None = strawberry.field(
        description="ISO 3166-1 alpha-2: with partyId, the operator's roaming identity."
    )
    party_id: str | None = strawberry.field(description="3 letters or digits, e.g. ABC.")
    suspended_at: datetime | None = strawberry.field(
        description="Set while suspended: its users and API keys are refused."
    )
    heartbeat_interval_s: int = strawberry.field(
        description="The heartbeat interval, in seconds, a station created here gets unless "
        "it is given its own."
    )
    created_at: datetime
    webhook_url: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, model: OrganizationView) -> Organization:
        return cls(
            id=model.id,
            name=model.name,
            slug=model.slug,
            unknown_station_policy=model.unknown_station_policy,
            default_currency=model.default_currency,
            country_code=model.country_code,
            party_id=model.party_id,
            suspended_at=model.suspended_at,
            heartbeat_interval_s=model.heartbeat_interval_s,
            created_at=model.created_at,
            webhook_url=model.alert_webhook_url,
        )

    @strawberry.field(description="Where alerts are POSTed, signed (admins; null for other roles).")
    def alert_webhook_url(self, info: Info[Context, None]) -> str | None:
        return self.webhook_url if may(info.context.principal, Permission.MANAGE) else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Organization | None]:
        return await nodes_by_id(
            node_ids, partial(auth.organizations_by_ids, info.context.principal), cls.from_model
        )


@strawberry.type(description="The authenticated caller.")
class Viewer:
    role: Role
    user_id: relay.GlobalID | None = strawberry.field(description="Set when a user logged in.")
    api_key_id: relay.GlobalID | None = strawberry.field(description="Set when an API key is used.")

    principal: strawberry.Private[Principal]

    @strawberry.field(
        description="The caller's organization; null for a platform key acting for none."
    )
    async def organization(self) -> Organization | None:
        if self.principal.is_platform:
            return None
        return Organization.from_model(await auth.organization(self.principal))

    @strawberry.field(description="A platform key (acting for an organization or not).")
    def platform(self) -> bool:
        return self.principal.platform_key_id is not None

    @strawberry.field(description="The signed-in user (none for an API key).")
    async def user(self) -> User | None:
        # As this caller, not the request's: right after `login` the request had none.
        user_id = self.principal.user_id
        if user_id is None:
            return None
        found = await auth.users_by_ids(self.principal, [user_id])
        return User.from_model(found[user_id]) if user_id in found else None

    @classmethod
    def from_model(cls, principal: Principal) -> Viewer:
        return cls(
            role=principal.role,
            user_id=global_id("User", principal.user_id) if principal.user_id else None,
            api_key_id=(
                global_id("ApiKey", principal.api_key_id) if principal.api_key_id else None
            ),
            principal=principal,
        )


@strawberry.type
class User(relay.Node):
    id: relay.NodeID[int]
    email: str
    name: str | None
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[User | None]:
        return await nodes_by_id(
            node_ids, partial(auth.users_by_ids, info.context.principal), cls.from_model
        )

    @classmethod
    def from_model(cls, model: UserView) -> User:
        return cls(
            id=model.id,
            email=model.email,
            name=model.name,
            role=model.role,
            active=model.active,
            created_at=model.created_at,
            last_login_at=model.last_login_at,
        )


@strawberry.type(description="An integrator's key; the key itself is shown only on creation.")
class ApiKey(relay.Node):
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry.field(description="Identifies the key in logs and lists.")
    role: Role
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="Updated at most every minute.")
    revoked_at: datetime | None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[ApiKey | None]:
        return await nodes_by_id(
            node_ids, partial(auth.api_keys_by_ids, info.context.principal), cls.from_model
        )

    @classmethod
    def from_model(cls, model: ApiKeyView) -> ApiKey:
        return cls(
            id=model.id,
            name=model.name,
            prefix=model.prefix,
            role=model.role,
            created_at=model.created_at,
            last_used_at=model.last_used_at,
            revoked_at=model.revoked_at,
        )


@strawberry.type(description="Send the token as `Authorization: Bearer <token>`.")
class LoginSuccess:
    token: str
    expires_at: datetime
    viewer: Viewer


@strawberry.type
class LogoutSuccess:
    revoked: bool


@strawberry.type
class ApiKeyCreated:
    key: str = strawberry.field(description="The secret: store it now, it is never shown again.")
    api_key: ApiKey


@strawberry.type
class ApiKeyRevoked:
    api_key: ApiKey


@strawberry.type
class UserCreated:
    user: User


@strawberry.type
class UserUpdated:
    user: User
