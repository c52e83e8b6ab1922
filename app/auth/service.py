"""Use cases of the auth domain: authorizing id tokens, provisioning them."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app.attempts import FailedAttempts
from app.auth import credentials, organizations, repository
from app.auth.access import Permission, may, require
from app.auth.models import (
    ACCEPTED,
    BLOCKED,
    EXPIRED,
    ID_TOKEN_STATUSES,
    ID_TOKEN_TYPES,
    INVALID,
    NO_ORGANIZATION,
    RFID,
    UNKNOWN,
    ApiKeyView,
    IdTokenView,
    IssuedCredential,
    IssuerAllowed,
    KeptTokens,
    OrganizationView,
    PartnerToken,
    Preauthorization,
    PreauthorizedAs,
    Principal,
    Role,
    TokenIssuers,
    TokenVerdict,
    UserView,
    Whitelist,
)
from app.auth.passwords import hash_password_async, verify_password_async
from app.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from app.events import CredentialsChanged
from app.outbound import OutboundPolicy
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# last_used_at is written at most this often per key or token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 8
MIN_WEBHOOK_SECRET = 16
BAD_LOGIN = "wrong organization, email or password"
SUSPENDED = "the organization is suspended"


async def authorize_token(
    organization_id: int, uid: str, token_type: str | None = None
) -> TokenVerdict:
    """May this token charge at a station of this organization? Unknown tokens are refused.
    A token is found by its uid whatever type the station reports (see presented_token)."""
    row = await repository.presented_token(organization_id, uid, token_type)
    if row is None:
        return TokenVerdict(status=UNKNOWN)
    status = str(row["status"])
    until = row["preauthorized_until"]
    preauthorized = until is not None and until > utcnow()
    if preauthorized:
        status = ACCEPTED  # its issuer has authorized it for this session
    elif row["partner"] is not None and row["whitelist"] == Whitelist.NEVER:
        # The partner wants to be asked every time: not from what it sent.
        status = INVALID
    expires_at = row["expires_at"]
    if status == ACCEPTED and expires_at is not None and expires_at <= utcnow():
        status = EXPIRED
    return TokenVerdict(
        status=status,
        token_id=int(row["id"]),
        user_id=row["user"],
        group_id=row["group_id"],
        expires_at=expires_at,
        partner_id=row["partner"],
        whitelist=row["whitelist"],
        preauthorized=preauthorized,
    )


# A partner's answer to a real-time authorization holds this long for the session that
# follows (the station's StartTransaction or TransactionEvent is not asked about again).
ISSUER_ANSWER_HOLDS = timedelta(minutes=5)
_ISSUER_STATUSES = {IssuerAllowed.BLOCKED: BLOCKED, IssuerAllowed.EXPIRED: EXPIRED}


async def authorize_asking_issuer(
    uow: UnitOfWork,
    issuers: TokenIssuers,
    organization_id: int,
    uid: str,
    token_type: str | None,
    station_id: int,
) -> TokenVerdict:
    """authorize_token, and for a roaming partner's token whose whitelist says so (NEVER,
    ALLOWED_OFFLINE), the partner's own answer, asked in real time: NEVER is refused when the
    partner cannot be asked, ALLOWED_OFFLINE then falls back to what the partner sent. An
    ALLOWED answer holds for the session that follows (ISSUER_ANSWER_HOLDS)."""
    verdict = await authorize_token(organization_id, uid, token_type)
    asks = verdict.whitelist in (Whitelist.NEVER, Whitelist.ALLOWED_OFFLINE)
    if verdict.partner_id is None or verdict.preauthorized or not asks:
        return verdict
    assert verdict.token_id is not None
    issued_as = await repository.issued_as(verdict.token_id)
    if issued_as is None:
        return verdict
    answer = await issuers.authorize(organization_id, verdict.partner_id, issued_as, station_id)
    if answer is None:
        return verdict  # NEVER is Invalid already; ALLOWED_OFFLINE as the partner sent it
    if answer.allowed is not IssuerAllowed.ALLOWED:
        return dataclasses.replace(verdict, status=_ISSUER_STATUSES.get(answer.allowed, INVALID))
    async with uow:
        await repository.preauthorize(
            verdict.token_id,
            Preauthorization(
                until=utcnow() + ISSUER_ANSWER_HOLDS,
                kind=PreauthorizedAs.AUTH_REQUEST,
                reference=answer.reference,
            ),
        )
    return dataclasses.replace(verdict, status=ACCEPTED, preauthorized=True)


async def partner_token(
    organization_id: int, partner_id: int, uid: str, token_type: str
) -> PartnerToken | None:
    """A token this partner issued, as it sent it."""
    found = await repository.token_with_type(organization_id, uid, token_type)
    if found is None or found[1] != partner_id:
        return None
    return found[2]


async def store_partner_token(
    uow: UnitOfWork,
    organization_id: int,
    token: PartnerToken,
    preauthorized: Preauthorization | None = None,
) -> None:
    """Keep (create or replace) a token a roaming partner issued; AlreadyExists when this uid
    and type is another issuer's token here. `preauthorized`: the partner started a session
    with it, so stations are told it is accepted until then."""
    async with uow:
        found = await repository.token_with_type(organization_id, token.uid, token.type)
        if found is not None and found[1] != token.partner_id:
            raise AlreadyExists(f"id token {token.uid!r} ({token.type}) has another issuer here")
        await _save_partner_token(organization_id, found[0] if found else None, token)
        if preauthorized is not None:
            stored = await repository.token_with_type(organization_id, token.uid, token.type)
            assert stored is not None
            await repository.preauthorize(stored[0], preauthorized)


async def keep_partner_tokens(
    uow: UnitOfWork, organization_id: int, tokens: Sequence[PartnerToken]
) -> KeptTokens:
    """Keep a batch of tokens partners issued (as a pull lists them), in one transaction: a
    token is written only when it is new or newer than the one kept (so stations' local
    lists are not sent what did not change), and one that is another issuer's is skipped."""
    changed = unchanged = conflicting = 0
    async with uow:
        for token in tokens:
            found = await repository.token_with_type(organization_id, token.uid, token.type)
            if found is not None and found[1] != token.partner_id:
                conflicting += 1
                continue
            kept = found[2] if found is not None else None
            if kept is not None and kept.updated_at >= token.updated_at:
                unchanged += 1
                continue
            await _save_partner_token(organization_id, found[0] if found else None, token)
            changed += 1
    return KeptTokens(changed, unchanged, conflicting)


async def _save_partner_token(
    organization_id: int, token_id: int | None, token: PartnerToken
) -> None:
    await repository.save_partner_token(
        organization_id,
        token_id,
        {
            "uid": token.uid,
            "type": token.type,
            "partner": token.partner_id,
            "status": ACCEPTED if token.valid else INVALID,
            "whitelist": token.whitelist.value,
            "contract_id": token.contract_id,
            "visual_number": token.visual_number,
            "group_id": token.group_id,
            "issued_as": token.issued_as,
            "updated_at": token.updated_at,
            "changed_at": utcnow(),  # stations' local lists follow from here
        },
    )


async def token_issuer(token_id: int) -> int | None:
    """The roaming partner that issued an id token, if one did."""
    return await repository.token_issuer(token_id)


async def token_types(organization_id: int, uids: Sequence[str]) -> dict[str, str]:
    """The type each of these uids is registered with, to send to stations as it is."""
    return await repository.token_types(organization_id, uids)


async def token_owner(organization_id: int, uid: str) -> int | None:
    """The user an id token belongs to, if it belongs to one."""
    row = await repository.find_token(organization_id, uid, None)
    return row["user"] if row else None


def checked_uid(uid: str, token_type: str) -> str:
    """A token's uid and type by the API's rules (the command line applies the same)."""
    uid = uid.strip()
    if not 1 <= len(uid) <= 36:  # OCPP 2.0.1 IdToken: at most 36 characters (1.6: 20)
        raise InvalidInput("a token uid has 1 to 36 characters")
    if token_type not in ID_TOKEN_TYPES:
        raise InvalidInput(f"type is one of {', '.join(ID_TOKEN_TYPES)}")
    return uid


async def add_token(
    uow: UnitOfWork,
    organization_slug: str,
    uid: str,
    token_type: str = RFID,
    user_email: str | None = None,
    group_id: str | None = None,
) -> int:
    """Register an id token (RFID card, app token, ...) that may charge."""
    uid = checked_uid(uid, token_type)
    async with uow:
        organization_id = await repository.organization_id_by_slug(organization_slug)
        if organization_id is None:
            raise NotFound(f"no organization {organization_slug!r}")
        if await repository.find_token(organization_id, uid, token_type) is not None:
            raise AlreadyExists(f"id token {uid!r} ({token_type}) already exists")
        user_id = None
        if user_email is not None:
            user_id = await repository.user_id_by_email(organization_id, user_email)
            if user_id is None:
                raise NotFound(f"no user {user_email!r} in {organization_slug!r}")
        return await repository.create_token(organization_id, uid, token_type, user_id, group_id)


def _email(email: str) -> str:
    normalized = email.strip().lower()
    if "@" not in normalized or len(normalized) > 254:
        raise InvalidInput(f"{email!r} is not an email address")
    return normalized


async def _organization(slug: str) -> int:
    organization_id = await repository.organization_id_by_slug(slug)
    if organization_id is None:
        raise NotFound(f"no organization {slug!r}")
    return organization_id


async def _new_user(
    organization_id: int, email: str, role: Role, password: str | None, name: str | None
) -> UserView:
    email = _email(email)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if await repository.user_id_by_email(organization_id, email) is not None:
        raise AlreadyExists(f"user {email!r} already exists")
    password_hash = await hash_password_async(password) if password is not None else None
    return await repository.create_user(organization_id, email, role, name, password_hash)


async def provision_user(
    uow: UnitOfWork,
    organization_slug: str,
    email: str,
    role: Role,
    password: str | None = None,
    name: str | None = None,
) -> UserView:
    """Add a user from a trusted script (`cpms user add`): the first admin comes from here."""
    async with uow:
        return await _new_user(await _organization(organization_slug), email, role, password, name)


async def create_user(
    uow: UnitOfWork,
    principal: Principal,
    email: str,
    role: Role,
    password: str | None = None,
    name: str | None = None,
) -> UserView:
    require(principal, Permission.MANAGE)
    async with uow:
        return await _new_user(principal.organization_id, email, role, password, name)


async def login(
    uow: UnitOfWork,
    attempts: FailedAttempts,
    organization_slug: str,
    email: str,
    password: str,
    lifetime: timedelta,
    address: str | None = None,
) -> IssuedCredential:
    """A login token for a user with a password; the same error, after the same time,
    whatever was wrong. The password is checked outside any transaction and off the event
    loop, and not at all while the account or the caller's address is locked out after too
    many failures (RateLimited). Unknown accounts are counted like known ones, so a lockout
    tells nothing about who exists."""
    email = email.strip().lower()
    account = attempts.account(organization_slug, email)
    from_address = attempts.address("login", address)
    failing = await attempts.check(account, from_address)
    organization_id = await repository.organization_id_by_slug(organization_slug)
    row = (
        await repository.user_login_row(organization_id, email)
        if organization_id is not None
        else None
    )
    stored = row["password_hash"] if row is not None and row["active"] else None
    if not await verify_password_async(password, stored) or row is None:
        await attempts.failed(account, from_address)
        raise NotAuthenticated(BAD_LOGIN)
    assert organization_id is not None
    if account.name in failing:
        await attempts.succeeded(account)
    async with uow:
        if await repository.organization_suspended(organization_id):
            raise NotAuthenticated(SUSPENDED)
        token = credentials.new_login_token()
        now = utcnow()
        expires_at = now + lifetime
        await repository.create_login_token(
            organization_id, row["id"], credentials.digest(token), expires_at
        )
        await repository.record_login(row["id"], now)
    principal = Principal(
        organization_id=organization_id, role=Role(row["role"]), user_id=row["id"]
    )
    return IssuedCredential(secret=token, principal=principal, expires_at=expires_at)


async def logout(uow: UnitOfWork, token: str) -> None:
    digest = credentials.digest(token)
    async with uow:
        row = await repository.login_token_row(digest)
        await repository.revoke_login_token(digest, utcnow())
        if row is not None:
            uow.emit(CredentialsChanged(organization_id=row["organization"]))


async def expiry(secret: str) -> datetime | None:
    """When a credential stops holding by itself: a login token's expiry (keys do not expire)."""
    if not credentials.is_login_token(secret):
        return None
    row = await repository.login_token_row(credentials.digest(secret))
    return row["expires_at"] if row is not None else None


async def authenticate_acting_for(
    uow: UnitOfWork, secret: str, acting_for: str | None
) -> Principal:
    """The principal behind a credential; a platform key acts for the organization whose slug
    `acting_for` names, when given."""
    principal = await authenticate(uow, secret)
    return await organizations.act_for(principal, acting_for) if acting_for else principal


def _stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


async def authenticate(uow: UnitOfWork, secret: str) -> Principal:
    """The principal behind an API key or login token; NotAuthenticated otherwise."""
    now = utcnow()
    prefix = credentials.api_key_prefix(secret)
    if prefix is not None:
        row = await repository.api_key_row(prefix)
        if (
            row is None
            or row["revoked_at"] is not None
            or not credentials.same_digest(secret, row["key_hash"])
        ):
            raise NotAuthenticated("unknown or revoked API key")
        if row["suspended_at"] is not None:
            raise NotAuthenticated(SUSPENDED)
        if _stale(row["last_used_at"], now):
            async with uow:
                await repository.touch_api_key(row["id"], now)
        return Principal(
            organization_id=row["organization"], role=Role(row["role"]), api_key_id=row["id"]
        )
    platform_prefix = credentials.api_key_prefix(secret, credentials.PLATFORM_KEY_KIND)
    if platform_prefix is not None:
        row = await repository.platform_key_row(platform_prefix)
        if (
            row is None
            or row["revoked_at"] is not None
            or not credentials.same_digest(secret, row["key_hash"])
        ):
            raise NotAuthenticated("unknown or revoked platform key")
        if _stale(row["last_used_at"], now):
            async with uow:
                await repository.touch_platform_key(row["id"], now)
        return Principal(
            organization_id=NO_ORGANIZATION, role=Role.VIEWER, platform_key_id=row["id"]
        )
    if credentials.is_login_token(secret):
        row = await repository.login_token_row(credentials.digest(secret))
        if (
            row is None
            or row["revoked_at"] is not None
            or row["expires_at"] <= now
            or not row["active"]
        ):
            raise NotAuthenticated("unknown, expired or revoked login token")
        if row["suspended_at"] is not None:
            raise NotAuthenticated(SUSPENDED)
        if _stale(row["last_used_at"], now):
            async with uow:
                await repository.touch_login_token(row["id"], now)
        return Principal(
            organization_id=row["organization"], role=Role(row["role"]), user_id=row["user"]
        )
    raise NotAuthenticated("expected an API key or a login token")


async def _new_api_key(
    organization_id: int, name: str, role: Role, created_by: int | None
) -> IssuedCredential:
    if not name.strip():
        raise InvalidInput("an API key needs a name")
    key, prefix = credentials.new_api_key()
    view = await repository.create_api_key(
        organization_id, name.strip()[:200], prefix, credentials.digest(key), role, created_by
    )
    principal = Principal(organization_id=organization_id, role=role, api_key_id=view.id)
    return IssuedCredential(secret=key, principal=principal, api_key=view)


async def provision_api_key(
    uow: UnitOfWork, organization_slug: str, name: str, role: Role
) -> IssuedCredential:
    """An API key from a trusted script (`cpms apikey add`); the key is shown only now."""
    async with uow:
        return await _new_api_key(await _organization(organization_slug), name, role, None)


async def create_api_key(
    uow: UnitOfWork, principal: Principal, name: str, role: Role
) -> IssuedCredential:
    require(principal, Permission.MANAGE)
    async with uow:
        return await _new_api_key(principal.organization_id, name, role, principal.user_id)


async def revoke_api_key(uow: UnitOfWork, principal: Principal, key_id: int) -> ApiKeyView:
    require(principal, Permission.MANAGE)
    async with uow:
        # Revoking twice is fine: the key stays revoked since the first time.
        await repository.revoke_api_key(principal.organization_id, key_id, utcnow())
        found = await repository.api_key_by_id(principal.organization_id, key_id)
        uow.emit(CredentialsChanged(organization_id=principal.organization_id))
    if found is None:  # not ours, or no such key: the same answer, nothing leaks
        raise NotFound(f"no API key {key_id}")
    return found


async def page_api_keys(principal: Principal, request: PageRequest) -> Page[ApiKeyView]:
    require(principal, Permission.MANAGE)
    return await repository.page_api_keys(principal.organization_id, request)


# Id tokens from the API: operators manage every token of their organization; a driver sees
# only their own.


def _check_token_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - {"status", "expires_at", "group_id", "user_id", "visual_number"}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    status = values.get("status")
    if status is not None and status not in ID_TOKEN_STATUSES:
        raise InvalidInput(f"status is one of {', '.join(ID_TOKEN_STATUSES)}")
    if "status" in values and status is None:
        raise InvalidInput("status cannot be null")
    return values


async def _own_user(organization_id: int, user_id: int | None) -> None:
    if user_id is not None and await repository.user_by_id(organization_id, user_id) is None:
        raise NotFound(f"no user {user_id}")


async def create_id_token(
    uow: UnitOfWork, principal: Principal, uid: str, token_type: str, values: dict[str, Any]
) -> IdTokenView:
    require(principal, Permission.OPERATE)
    uid = checked_uid(uid, token_type)
    values = _check_token_values(values)
    async with uow:
        await _own_user(principal.organization_id, values.get("user_id"))
        organization_id = principal.organization_id
        if await repository.find_token(organization_id, uid, token_type) is not None:
            raise AlreadyExists(f"id token {uid!r} ({token_type}) already exists")
        token_id = await repository.create_token(
            organization_id,
            uid,
            token_type,
            values.pop("user_id", None),
            values.pop("group_id", None),
        )
        if values:
            await repository.update_id_token(organization_id, token_id, values)
        found = await repository.id_tokens_by_ids(organization_id, [token_id])
    return found[0]


async def update_id_token(
    uow: UnitOfWork, principal: Principal, token_id: int, changes: dict[str, Any]
) -> IdTokenView:
    """Block, unblock, set an expiry, move to a group or a user."""
    require(principal, Permission.OPERATE)
    values = _check_token_values(changes)
    async with uow:
        await _own_user(principal.organization_id, values.get("user_id"))
        if values:
            await repository.update_id_token(principal.organization_id, token_id, values)
        found = await repository.id_tokens_by_ids(principal.organization_id, [token_id])
    if not found:
        raise NotFound(f"no id token {token_id}")
    return found[0]


async def delete_id_token(uow: UnitOfWork, principal: Principal, token_id: int) -> None:
    require(principal, Permission.OPERATE)
    async with uow:
        if not await repository.delete_id_token(principal.organization_id, token_id):
            raise NotFound(f"no id token {token_id}")


async def page_id_tokens(principal: Principal, request: PageRequest) -> Page[IdTokenView]:
    if may(principal, Permission.OPERATE) or may(principal, Permission.READ_NETWORK):
        return await repository.page_id_tokens(principal.organization_id, None, request)
    require(principal, Permission.CHARGE)
    if principal.user_id is None:
        raise NotPermitted("only a signed-in driver has id tokens of their own")
    return await repository.page_id_tokens(principal.organization_id, principal.user_id, request)


async def id_tokens_by_ids(
    principal: Principal, token_ids: Sequence[int]
) -> dict[int, IdTokenView]:
    found = await repository.id_tokens_by_ids(principal.organization_id, token_ids)
    staff = may(principal, Permission.READ_NETWORK) or may(principal, Permission.OPERATE)
    return {
        token.id: token
        for token in found
        if staff or (principal.user_id is not None and token.user_id == principal.user_id)
    }


# People of the organization, for admins.


async def page_users(principal: Principal, request: PageRequest) -> Page[UserView]:
    require(principal, Permission.MANAGE)
    return await repository.page_users(principal.organization_id, request)


async def update_user(
    uow: UnitOfWork, principal: Principal, user_id: int, changes: dict[str, Any]
) -> UserView:
    """Rename, change the role, (de)activate or set a new password. Deactivating a user or
    setting a new password signs them out everywhere."""
    require(principal, Permission.MANAGE)
    unknown = set(changes) - {"name", "role", "active", "password"}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    values = {name: value for name, value in changes.items() if name != "password"}
    if "role" in values:
        values["role"] = Role(values["role"]).value
    if values.get("active") is None:
        values.pop("active", None)
    password = changes.get("password")
    if password is not None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        values["password_hash"] = await hash_password_async(password)
    if principal.user_id == user_id and (
        values.get("active") is False or values.get("role", Role.ADMIN) != Role.ADMIN
    ):
        raise InvalidInput("an admin cannot demote or deactivate themselves")
    async with uow:
        if values and not await repository.update_user(principal.organization_id, user_id, values):
            raise NotFound(f"no user {user_id}")
        if values.get("active") is False or "password_hash" in values:
            await repository.revoke_login_tokens_of(user_id, utcnow())
        if values.keys() & {"role", "active", "password_hash"}:
            uow.emit(CredentialsChanged(organization_id=principal.organization_id))
        found = await repository.user_by_id(principal.organization_id, user_id)
    if found is None:
        raise NotFound(f"no user {user_id}")
    return found


async def users_by_ids(principal: Principal, user_ids: Sequence[int]) -> dict[int, UserView]:
    """Admins and staff see the organization's people; anyone else only themselves."""
    found = await repository.users_by_ids(principal.organization_id, user_ids)
    staff = may(principal, Permission.MANAGE) or may(principal, Permission.READ_NETWORK)
    return {user.id: user for user in found if staff or user.id == principal.user_id}


async def api_keys_by_ids(principal: Principal, key_ids: Sequence[int]) -> dict[int, ApiKeyView]:
    require(principal, Permission.MANAGE)
    found = await repository.api_keys_by_ids(principal.organization_id, key_ids)
    return {key.id: key for key in found}


async def organization(principal: Principal) -> OrganizationView:
    """The caller's own organization: the only one they can see."""
    found = await repository.organization_by_id(principal.organization_id)
    if found is None:
        raise NotFound("the organization no longer exists")
    return found


async def organizations_by_ids(
    principal: Principal, organization_ids: Sequence[int]
) -> dict[int, OrganizationView]:
    """A platform key sees every organization; anyone else only their own."""
    if principal.is_platform:
        found = await repository.organizations_by_ids(organization_ids)
        return {organization.id: organization for organization in found}
    if principal.organization_id not in organization_ids:
        return {}
    return {principal.organization_id: await organization(principal)}


async def update_organization(
    uow: UnitOfWork,
    principal: Principal,
    changes: dict[str, Any],
    organization_id: int | None = None,
    outbound: OutboundPolicy | None = None,
) -> OrganizationView:
    """Name, default currency, roaming identity, the policy for unknown stations, and where
    alerts are sent (a webhook URL and the secret its requests are signed with): an admin for
    their own organization, a platform key for the one it names."""
    current = await organizations.target(principal, organization_id)
    unknown = set(changes) - {
        "name",
        "default_currency",
        "country_code",
        "party_id",
        "unknown_station_policy",
        "heartbeat_interval_s",
        "alert_webhook_url",
        "alert_webhook_secret",
    }
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    values = organizations.checked_values(
        {name: value for name, value in changes.items() if not name.startswith("alert_webhook")}
    )
    async with uow:
        await organizations.check_update(values, current)
        alerts = _alert_settings(
            dict(current.settings.get("alerts") or {}), changes, outbound or OutboundPolicy()
        )
        if alerts is not None:
            values["settings"] = {**current.settings, "alerts": alerts}
        if values:
            await repository.update_organization(current.id, values)
    found = await repository.organization_by_id(current.id)
    assert found is not None
    return found


def _alert_settings(
    alerts: dict[str, Any], changes: dict[str, Any], outbound: OutboundPolicy
) -> dict[str, Any] | None:
    """The alert webhook after `changes` (None: untouched); an empty URL turns it off."""
    if "alert_webhook_url" not in changes and "alert_webhook_secret" not in changes:
        return None
    if "alert_webhook_url" in changes:
        url = (changes["alert_webhook_url"] or "").strip()
        if url:
            outbound.check_url(url, "the alert webhook")
        alerts["webhook_url"] = url or None
    if changes.get("alert_webhook_secret") is not None:
        secret = changes["alert_webhook_secret"]
        if len(secret) < MIN_WEBHOOK_SECRET:
            raise InvalidInput(f"a webhook secret has at least {MIN_WEBHOOK_SECRET} characters")
        alerts["webhook_secret"] = secret
    if alerts.get("webhook_url") and not alerts.get("webhook_secret"):
        raise InvalidInput("an alert webhook needs a secret to sign its requests with")
    return alerts


async def organization_settings(organization_id: int) -> dict[str, Any]:
    """An organization's settings (alert webhook, healing thresholds), for the domain."""
    found = await repository.organization_by_id(organization_id)
    return found.settings if found else {}


async def issue_one_off_token(organization_id: int, user_id: int | None) -> tuple[int, str]:
    """A fresh token (20 characters: OCPP 1.6 idTag's limit) for one paid session: the
    station starts with it, and the payment finds its session by it. Call inside a unit of
    work."""
    uid = "AH" + secrets.token_hex(9).upper()
    token_id = await repository.create_token(organization_id, uid, "Central", user_id, None)
    return token_id, uid


async def set_saved_card(user_id: int, customer_id: str | None, method_id: str | None) -> None:
    """The provider's customer and card a driver is charged with after each session (None:
    forget them). Call inside a unit of work."""
    await repository.set_saved_card(user_id, customer_id, method_id)


async def saved_card(user_id: int) -> tuple[str, str] | None:
    """(customer, payment method) of a driver who saved a card."""
    return await repository.saved_card(user_id)


async def put_setting(uow: UnitOfWork, organization_id: int, name: str, value: Any) -> None:
    """Set one section of an organization's settings (checked by the domain that owns it).
    Call inside `uow`."""
    found = await repository.organization_by_id(organization_id)
    if found is None:
        raise NotFound("the organization no longer exists")
    await repository.update_organization(
        organization_id, {"settings": {**found.settings, name: value}}
    )
