"""Use cases above the tenants: organizations and the platform keys that manage them.

A platform key belongs to whoever hosts the installation. On its own it may create, change,
list and suspend organizations and nothing else; it reaches inside one only when it says on
whose behalf it acts, and then with an admin's rights there."""

from __future__ import annotations

import re
from typing import Any

from app.auth import credentials, repository
from app.auth.access import Permission, require
from app.auth.models import (
    NO_ORGANIZATION,
    IssuedCredential,
    OrganizationView,
    Principal,
    Role,
    UnknownStationPolicy,
)
from app.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from app.events import CredentialsChanged
from app.heartbeat import checked_interval
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_NAME_LENGTH = 200


def checked_country_code(value: object) -> str:
    """A roaming identity's country: ISO 3166-1 alpha-2, upper case."""
    country = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput("countryCode: an ISO 3166-1 alpha-2 code, e.g. DE")
    return country


def checked_party_id(value: object) -> str:
    """A roaming identity's party: 3 letters or digits, upper case."""
    party = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{3}", party):
        raise InvalidInput("partyId: 3 letters or digits, e.g. ABC")
    return party


def checked_values(changes: dict[str, Any]) -> dict[str, Any]:
    """The organization columns `changes` (API names) sets, normalised; InvalidInput names
    the first bad one. Fields given as None are left out."""
    values: dict[str, Any] = {}
    given = {name: value for name, value in changes.items() if value is not None}
    if "slug" in given:
        slug = given["slug"].strip()
        if not SLUG.match(slug):
            raise InvalidInput(
                "slug: 2 to 63 lowercase letters, digits and hyphens, starting with a letter "
                "or digit"
            )
        values["slug"] = slug
    if "name" in given:
        name = given["name"].strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"name: 1 to {MAX_NAME_LENGTH} characters")
        values["name"] = name
    if "default_currency" in given:
        currency = given["default_currency"].strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise InvalidInput("defaultCurrency: an ISO 4217 code, e.g. EUR")
        values["default_currency"] = currency
    if "country_code" in given:
        values["country_code"] = checked_country_code(given["country_code"])
    if "party_id" in given:
        values["party_id"] = checked_party_id(given["party_id"])
    if "heartbeat_interval_s" in given:
        values["heartbeat_interval_s"] = checked_interval(given["heartbeat_interval_s"])
    if "unknown_station_policy" in given:
        values["unknown_station_policy"] = UnknownStationPolicy(
            given["unknown_station_policy"]
        ).value
    return values


async def _check_roaming_identity(values: dict[str, Any], current: OrganizationView | None) -> None:
    """Country code and party id come together and name one organization only."""
    country = values.get("country_code", current.country_code if current else None)
    party = values.get("party_id", current.party_id if current else None)
    if (country is None) != (party is None):
        raise InvalidInput("countryCode and partyId are given together")
    if country is None:
        return
    other = await repository.organization_with_roaming_identity(str(country), str(party))
    if other is not None and (current is None or other.id != current.id):
        raise AlreadyExists(f"{country}*{party} is already the identity of {other.slug!r}")


async def add_organization(uow: UnitOfWork, fields: dict[str, Any]) -> OrganizationView:
    """A new tenant (slug, name, currency, roaming identity); the CLI's and the platform's."""
    values = checked_values(fields)
    if "slug" not in values or "name" not in values:
        raise InvalidInput("an organization needs a slug and a name")
    async with uow:
        if await repository.organization_id_by_slug(values["slug"]) is not None:
            raise AlreadyExists(f"organization {values['slug']!r} already exists")
        await _check_roaming_identity(values, None)
        organization_id = await repository.create_organization(values)
        created = await repository.organization_by_id(organization_id)
    assert created is not None
    return created


async def create_organization(
    uow: UnitOfWork, principal: Principal, fields: dict[str, Any]
) -> OrganizationView:
    """A new tenant, by a platform key."""
    require(principal, Permission.MANAGE_ORGANIZATIONS)
    return await add_organization(uow, fields)


async def list_organizations() -> list[OrganizationView]:
    """Every organization (the command line)."""
    return await repository.organizations()


async def page_organizations(principal: Principal, request: PageRequest) -> Page[OrganizationView]:
    """Every organization, a page at a time (a platform key)."""
    require(principal, Permission.MANAGE_ORGANIZATIONS)
    return await repository.page_organizations(request)


async def default_organization_slug() -> str:
    """The organization a command means when it names none: the only one there is."""
    found = await repository.organizations()
    if len(found) == 1:
        return found[0].slug
    if not found:
        raise NotFound("no organization yet: create one with `cpms organization add`")
    raise InvalidInput("several organizations: name one with --organization")


async def target(principal: Principal, organization_id: int | None) -> OrganizationView:
    """The organization a change is for: any one for a platform key (which must name it), the
    caller's own for an admin."""
    if principal.is_platform:
        require(principal, Permission.MANAGE_ORGANIZATIONS)
        if organization_id is None:
            raise InvalidInput("id: a platform key names the organization it changes")
    else:
        require(principal, Permission.MANAGE)
        if organization_id not in (None, principal.organization_id):
            raise NotFound("no such organization")
        organization_id = principal.organization_id
    found = await repository.organization_by_id(organization_id)
    if found is None:
        raise NotFound("no such organization")
    return found


async def check_update(values: dict[str, Any], current: OrganizationView) -> None:
    """What an update may not do: take another tenant's roaming identity."""
    await _check_roaming_identity(values, current)


async def suspend_organization(
    uow: UnitOfWork, principal: Principal, organization_id: int, suspended: bool
) -> OrganizationView:
    """Suspend a tenant (its users and API keys are refused at once) or lift it (platform)."""
    require(principal, Permission.MANAGE_ORGANIZATIONS)
    async with uow:
        if await repository.organization_by_id(organization_id) is None:
            raise NotFound("no such organization")
        await repository.update_organization(
            organization_id, {"suspended_at": utcnow() if suspended else None}
        )
        found = await repository.organization_by_id(organization_id)
        uow.emit(CredentialsChanged(organization_id=organization_id))
    assert found is not None
    return found


async def provision_platform_key(uow: UnitOfWork, name: str) -> IssuedCredential:
    """A new platform key (from the command line only: it is above every tenant)."""
    if not name.strip():
        raise InvalidInput("a platform key needs a name")
    key, prefix = credentials.new_api_key(credentials.PLATFORM_KEY_KIND)
    async with uow:
        key_id = await repository.create_platform_key(
            name.strip()[:MAX_NAME_LENGTH], prefix, credentials.digest(key)
        )
    principal = Principal(organization_id=NO_ORGANIZATION, role=Role.VIEWER, platform_key_id=key_id)
    return IssuedCredential(secret=key, principal=principal)


async def act_for(principal: Principal, organization_slug: str) -> Principal:
    """A platform key acting on behalf of one organization, with an admin's rights there."""
    if principal.platform_key_id is None:
        raise NotPermitted("only a platform key acts on behalf of an organization")
    organization_id = await repository.organization_id_by_slug(organization_slug.strip())
    if organization_id is None:
        raise NotFound(f"no organization {organization_slug!r}")
    return Principal(
        organization_id=organization_id, role=Role.ADMIN, platform_key_id=principal.platform_key_id
    )
