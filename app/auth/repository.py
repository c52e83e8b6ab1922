"""Every query of the auth domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.auth.models import (
    ACCEPTED,
    ApiKeyView,
    IdTokenView,
    OrganizationView,
    PartnerToken,
    Preauthorization,
    Role,
    UnknownStationPolicy,
    UserView,
    Whitelist,
)
from app.pagination import Page, PageRequest
from db.paging import page_by_id
from db.tables import ApiKey, IdToken, LoginToken, Organization, PlatformKey, User


async def find_token(
    organization_id: int, uid: str, token_type: str | None
) -> dict[str, Any] | None:
    """The token with this uid (and type, when the station says it), or None."""
    query = IdToken.select(
        IdToken.id,
        IdToken.status,
        IdToken.expires_at,
        IdToken.group_id,
        IdToken.user,
    ).where((IdToken.organization == organization_id) & (IdToken.uid == uid))
    if token_type is not None:
        query = query.where(IdToken.type == token_type)
    return await query.order_by(IdToken.id).first()


async def presented_token(
    organization_id: int, uid: str, token_type: str | None
) -> dict[str, Any] | None:
    """The token a station presents: by its uid, the one of the type the station says when
    there is one of that type, else the oldest one with that uid (stations report the same
    card as ISO14443, Local or Central)."""
    rows = await (
        IdToken.select(
            IdToken.id,
            IdToken.type,
            IdToken.status,
            IdToken.expires_at,
            IdToken.group_id,
            IdToken.user,
            IdToken.partner,
            IdToken.whitelist,
            IdToken.preauthorized_until,
        )
        .where((IdToken.organization == organization_id) & (IdToken.uid == uid))
        .order_by(IdToken.id)
    )
    exact = [row for row in rows if row["type"] == token_type]
    chosen = exact or rows
    return chosen[0] if chosen else None


async def token_types(organization_id: int, uids: Sequence[str]) -> dict[str, str]:
    """The stored type of each uid (the oldest token's, when one uid has several)."""
    if not uids:
        return {}
    rows = await (
        IdToken.select(IdToken.uid, IdToken.type)
        .where((IdToken.organization == organization_id) & IdToken.uid.is_in(list(uids)))
        .order_by(IdToken.id, ascending=False)
    )
    return {row["uid"]: row["type"] for row in rows}


async def organization_id_by_slug(slug: str) -> int | None:
    row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    return int(row["id"]) if row else None


_ORGANIZATION_COLUMNS = (
    Organization.id,
    Organization.name,
    Organization.slug,
    Organization.unknown_station_policy,
    Organization.default_currency,
    Organization.created_at,
    Organization.settings,
    Organization.country_code,
    Organization.party_id,
    Organization.suspended_at,
    Organization.heartbeat_interval_s,
)


def _organization(row: dict[str, Any]) -> OrganizationView:
    row["unknown_station_policy"] = UnknownStationPolicy(row["unknown_station_policy"])
    settings = row["settings"]
    row["settings"] = (json.loads(settings) if isinstance(settings, str) else settings) or {}
    return OrganizationView(**row)


async def organization_by_id(organization_id: int) -> OrganizationView | None:
    row = (
        await Organization.select(*_ORGANIZATION_COLUMNS)
        .where(Organization.id == organization_id)
        .first()
    )
    return _organization(row) if row else None


async def organizations() -> list[OrganizationView]:
    """Every organization, oldest first (the command line's view)."""
    rows = await Organization.select(*_ORGANIZATION_COLUMNS).order_by(Organization.id)
    return [_organization(row) for row in rows]


async def page_organizations(request: PageRequest) -> Page[OrganizationView]:
    """Organizations oldest first (the platform's view)."""
    return await page_by_id(
        Organization.select(*_ORGANIZATION_COLUMNS), Organization.id, request, _organization
    )


async def organizations_by_ids(organization_ids: Sequence[int]) -> list[OrganizationView]:
    rows = await Organization.select(*_ORGANIZATION_COLUMNS).where(
        Organization.id.is_in(list(organization_ids))
    )
    return [_organization(row) for row in rows]


async def organization_with_roaming_identity(
    country_code: str, party_id: str
) -> OrganizationView | None:
    rows = await Organization.select(*_ORGANIZATION_COLUMNS).where(
        (Organization.country_code == country_code) & (Organization.party_id == party_id)
    )
    return _organization(rows[0]) if rows else None


async def create_organization(values: dict[str, Any]) -> int:
    rows = await Organization.insert(Organization(**values)).returning(Organization.id)
    return int(rows[0]["id"])


async def organization_suspended(organization_id: int) -> bool:
    row = (
        await Organization.select(Organization.suspended_at)
        .where(Organization.id == organization_id)
        .first()
    )
    return row is None or row["suspended_at"] is not None


async def update_organization(organization_id: int, values: dict[str, Any]) -> None:
    await Organization.update(
        {getattr(Organization, name): value for name, value in values.items()}
    ).where(Organization.id == organization_id)


async def user_id_by_email(organization_id: int, email: str) -> int | None:
    row = (
        await User.select(User.id)
        .where((User.organization == organization_id) & (User.email == email))
        .first()
    )
    return int(row["id"]) if row else None


_PARTNER_TOKEN_COLUMNS = (
    IdToken.id,
    IdToken.partner,
    IdToken.uid,
    IdToken.type,
    IdToken.status,
    IdToken.whitelist,
    IdToken.contract_id,
    IdToken.visual_number,
    IdToken.group_id,
    IdToken.issued_as,
    IdToken.updated_at,
)


def _partner_token(row: dict[str, Any]) -> PartnerToken:
    issued_as = row["issued_as"]
    return PartnerToken(
        partner_id=row["partner"],
        uid=row["uid"],
        type=row["type"],
        valid=row["status"] == ACCEPTED,
        whitelist=Whitelist(row["whitelist"]),
        contract_id=row["contract_id"],
        visual_number=row["visual_number"],
        group_id=row["group_id"],
        issued_as=json.loads(issued_as) if isinstance(issued_as, str) else issued_as,
        updated_at=row["updated_at"],
    )


async def token_with_type(
    organization_id: int, uid: str, token_type: str
) -> tuple[int, int | None, PartnerToken | None] | None:
    """The token with exactly this uid and type: its id, the partner that issued it, and
    what that partner sent (None for the organization's own tokens)."""
    row = (
        await IdToken.select(*_PARTNER_TOKEN_COLUMNS)
        .where(
            (IdToken.organization == organization_id)
            & (IdToken.uid == uid)
            & (IdToken.type == token_type)
        )
        .first()
    )
    if row is None:
        return None
    token = _partner_token(row) if row["partner"] is not None and row["whitelist"] else None
    return row["id"], row["partner"], token


async def save_partner_token(
    organization_id: int, token_id: int | None, values: dict[str, Any]
) -> None:
    """Insert (no id) or replace a partner's token."""
    if token_id is None:
        await IdToken.insert(IdToken(organization=organization_id, **values))
    else:
        await IdToken.update({getattr(IdToken, name): v for name, v in values.items()}).where(
            IdToken.id == token_id
        )


async def preauthorize(token_id: int, preauthorization: Preauthorization) -> None:
    await IdToken.update(
        {
            IdToken.preauthorized_until: preauthorization.until,
            IdToken.preauthorized_as: preauthorization.kind.value,
            IdToken.authorization_reference: preauthorization.reference,
        }
    ).where(IdToken.id == token_id)


async def issued_as(token_id: int) -> dict[str, Any] | None:
    """A partner's token as the partner sent it."""
    row = await IdToken.select(IdToken.issued_as).where(IdToken.id == token_id).first()
    if row is None or row["issued_as"] is None:
        return None
    value = row["issued_as"]
    return json.loads(value) if isinstance(value, str) else dict(value)


async def token_issuer(token_id: int) -> int | None:
    row = await IdToken.select(IdToken.partner).where(IdToken.id == token_id).first()
    return row["partner"] if row else None


async def create_token(
    organization_id: int, uid: str, token_type: str, user_id: int | None, group_id: str | None
) -> int:
    token = IdToken(
        organization=organization_id, uid=uid, type=token_type, user=user_id, group_id=group_id
    )
    await token.save()
    return int(token.id)


_USER_COLUMNS = (
    User.id,
    User.organization,
    User.email,
    User.name,
    User.role,
    User.active,
    User.created_at,
    User.last_login_at,
)


def _user(row: dict[str, Any]) -> UserView:
    return UserView(
        id=row["id"],
        organization_id=row["organization"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        active=row["active"],
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


async def create_user(
    organization_id: int, email: str, role: Role, name: str | None, password_hash: str | None
) -> UserView:
    user = User(
        organization=organization_id,
        email=email,
        role=role.value,
        name=name,
        password_hash=password_hash,
    )
    await user.save()
    found = await user_by_id(organization_id, int(user.id))
    assert found is not None
    return found


async def user_by_id(organization_id: int, user_id: int) -> UserView | None:
    row = (
        await User.select(*_USER_COLUMNS)
        .where((User.organization == organization_id) & (User.id == user_id))
        .first()
    )
    return _user(row) if row else None


async def user_login_row(organization_id: int, email: str) -> dict[str, Any] | None:
    return await (
        User.select(User.id, User.role, User.active, User.password_hash)
        .where((User.organization == organization_id) & (User.email == email))
        .first()
    )


async def record_login(user_id: int, at: datetime) -> None:
    await User.update({User.last_login_at: at}).where(User.id == user_id)


async def create_login_token(
    organization_id: int, user_id: int, token_hash: str, expires_at: datetime
) -> None:
    await LoginToken.insert(
        LoginToken(
            organization=organization_id,
            user=user_id,
            token_hash=token_hash,
            expires_at=expires_at,
        )
    )


async def login_token_row(token_hash: str) -> dict[str, Any] | None:
    """The token with the user's current role and state (a demoted user loses rights at once)."""
    return await (
        LoginToken.select(
            LoginToken.id,
            LoginToken.organization,
            LoginToken.user,
            LoginToken.expires_at,
            LoginToken.revoked_at,
            LoginToken.last_used_at,
            LoginToken.user.role.as_alias("role"),
            LoginToken.user.active.as_alias("active"),
            LoginToken.organization.suspended_at.as_alias("suspended_at"),
        )
        .where(LoginToken.token_hash == token_hash)
        .first()
    )


async def touch_login_token(token_id: int, at: datetime) -> None:
    await LoginToken.update({LoginToken.last_used_at: at}).where(LoginToken.id == token_id)


async def revoke_login_token(token_hash: str, at: datetime) -> None:
    await LoginToken.update({LoginToken.revoked_at: at}).where(
        (LoginToken.token_hash == token_hash) & LoginToken.revoked_at.is_null()
    )


_API_KEY_COLUMNS = (
    ApiKey.id,
    ApiKey.organization,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.role,
    ApiKey.created_at,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
)


def _api_key(row: dict[str, Any]) -> ApiKeyView:
    return ApiKeyView(
        id=row["id"],
        organization_id=row["organization"],
        name=row["name"],
        prefix=row["prefix"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create_api_key(
    organization_id: int,
    name: str,
    prefix: str,
    key_hash: str,
    role: Role,
    created_by: int | None,
) -> ApiKeyView:
    key = ApiKey(
        organization=organization_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        role=role.value,
        created_by=created_by,
    )
    await key.save()
    found = await api_key_by_id(organization_id, int(key.id))
    assert found is not None
    return found


async def api_key_by_id(organization_id: int, key_id: int) -> ApiKeyView | None:
    row = (
        await ApiKey.select(*_API_KEY_COLUMNS)
        .where((ApiKey.organization == organization_id) & (ApiKey.id == key_id))
        .first()
    )
    return _api_key(row) if row else None


async def api_key_row(prefix: str) -> dict[str, Any] | None:
    return (
        await ApiKey.select(
            *_API_KEY_COLUMNS,
            ApiKey.key_hash,
            ApiKey.organization.suspended_at.as_alias("suspended_at"),
        )
        .where(ApiKey.prefix == prefix)
        .first()
    )


async def create_platform_key(name: str, prefix: str, key_hash: str) -> int:
    rows = await PlatformKey.insert(
        PlatformKey(name=name, prefix=prefix, key_hash=key_hash)
    ).returning(PlatformKey.id)
    return int(rows[0]["id"])


async def platform_key_row(prefix: str) -> dict[str, Any] | None:
    return (
        await PlatformKey.select(
            PlatformKey.id, PlatformKey.key_hash, PlatformKey.last_used_at, PlatformKey.revoked_at
        )
        .where(PlatformKey.prefix == prefix)
        .first()
    )


async def touch_platform_key(key_id: int, at: datetime) -> None:
    await PlatformKey.update({PlatformKey.last_used_at: at}).where(PlatformKey.id == key_id)


async def page_api_keys(organization_id: int, request: PageRequest) -> Page[ApiKeyView]:
    query = ApiKey.select(*_API_KEY_COLUMNS).where(ApiKey.organization == organization_id)
    return await page_by_id(query, ApiKey.id, request, _api_key)


async def touch_api_key(key_id: int, at: datetime) -> None:
    await ApiKey.update({ApiKey.last_used_at: at}).where(ApiKey.id == key_id)


async def revoke_api_key(organization_id: int, key_id: int, at: datetime) -> bool:
    updated = (
        await ApiKey.update({ApiKey.revoked_at: at})
        .where(
            (ApiKey.organization == organization_id)
            & (ApiKey.id == key_id)
            & ApiKey.revoked_at.is_null()
        )
        .returning(ApiKey.id)
    )
    return bool(updated)


_ID_TOKEN_COLUMNS = (
    IdToken.id,
    IdToken.organization,
    IdToken.uid,
    IdToken.type,
    IdToken.status,
    IdToken.expires_at,
    IdToken.group_id,
    IdToken.user,
    IdToken.visual_number,
    IdToken.created_at,
)


def _id_token(row: dict[str, Any]) -> IdTokenView:
    return IdTokenView(
        id=row["id"],
        organization_id=row["organization"],
        uid=row["uid"],
        type=row["type"],
        status=row["status"],
        expires_at=row["expires_at"],
        group_id=row["group_id"],
        user_id=row["user"],
        visual_number=row["visual_number"],
        created_at=row["created_at"],
    )


async def id_tokens_by_ids(organization_id: int, token_ids: Sequence[int]) -> list[IdTokenView]:
    rows = await IdToken.select(*_ID_TOKEN_COLUMNS).where(
        (IdToken.organization == organization_id) & IdToken.id.is_in(list(token_ids))
    )
    return [_id_token(row) for row in rows]


async def page_id_tokens(
    organization_id: int, user_id: int | None, request: PageRequest
) -> Page[IdTokenView]:
    query = IdToken.select(*_ID_TOKEN_COLUMNS).where(IdToken.organization == organization_id)
    if user_id is not None:
        query = query.where(IdToken.user == user_id)
    return await page_by_id(query, IdToken.id, request, _id_token)


_ID_TOKEN_UPDATABLE = {
    "status": IdToken.status,
    "expires_at": IdToken.expires_at,
    "group_id": IdToken.group_id,
    "user_id": IdToken.user,
    "visual_number": IdToken.visual_number,
}


async def update_id_token(organization_id: int, token_id: int, values: dict[str, Any]) -> bool:
    updated = (
        await IdToken.update({_ID_TOKEN_UPDATABLE[k]: v for k, v in values.items()})
        .where((IdToken.organization == organization_id) & (IdToken.id == token_id))
        .returning(IdToken.id)
    )
    return bool(updated)


async def delete_id_token(organization_id: int, token_id: int) -> bool:
    deleted = (
        await IdToken.delete()
        .where((IdToken.organization == organization_id) & (IdToken.id == token_id))
        .returning(IdToken.id)
    )
    return bool(deleted)


async def page_users(organization_id: int, request: PageRequest) -> Page[UserView]:
    query = User.select(*_USER_COLUMNS).where(User.organization == organization_id)
    return await page_by_id(query, User.id, request, _user)


_USER_UPDATABLE = {
    "name": User.name,
    "role": User.role,
    "active": User.active,
    "password_hash": User.password_hash,
}


async def update_user(organization_id: int, user_id: int, values: dict[str, Any]) -> bool:
    updated = (
        await User.update({_USER_UPDATABLE[k]: v for k, v in values.items()})
        .where((User.organization == organization_id) & (User.id == user_id))
        .returning(User.id)
    )
    return bool(updated)


async def revoke_login_tokens_of(user_id: int, at: datetime) -> None:
    await LoginToken.update({LoginToken.revoked_at: at}).where(
        (LoginToken.user == user_id) & LoginToken.revoked_at.is_null()
    )


async def users_by_ids(organization_id: int, user_ids: Sequence[int]) -> list[UserView]:
    rows = await User.select(*_USER_COLUMNS).where(
        (User.organization == organization_id) & User.id.is_in(list(user_ids))
    )
    return [_user(row) for row in rows]


async def api_keys_by_ids(organization_id: int, key_ids: Sequence[int]) -> list[ApiKeyView]:
    rows = await ApiKey.select(*_API_KEY_COLUMNS).where(
        (ApiKey.organization == organization_id) & ApiKey.id.is_in(list(key_ids))
    )
    return [_api_key(row) for row in rows]


async def set_saved_card(user_id: int, customer_id: str | None, method_id: str | None) -> None:
    await User.update(
        {User.stripe_customer_id: customer_id, User.stripe_payment_method_id: method_id}
    ).where(User.id == user_id)


async def saved_card(user_id: int) -> tuple[str, str] | None:
    row = (
        await User.select(User.stripe_customer_id, User.stripe_payment_method_id)
        .where(User.id == user_id)
        .first()
    )
    if not row or not row["stripe_customer_id"] or not row["stripe_payment_method_id"]:
        return None
    return row["stripe_customer_id"], row["stripe_payment_method_id"]
