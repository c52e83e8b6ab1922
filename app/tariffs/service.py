"""Use cases of the tariffs domain: tariffs, where they apply, and the price shown up front."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.errors import AlreadyExists, InvalidInput, NotFound
from app.pagination import Page, PageRequest
from app.stations import service as stations
from app.tariffs import calculator, repository
from app.tariffs.models import (
    ApplicablePrices,
    ConnectorPlace,
    TariffAssignmentView,
    TariffSnapshot,
    TariffType,
    TariffView,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

TARIFF_TYPES = tuple(TariffType)
TARIFF_FIELDS = (
    "code",
    "name",
    "currency",
    "type",
    "elements",
    "min_price_minor",
    "max_price_minor",
    "alt_text",
    "start_at",
    "end_at",
)


@dataclass(frozen=True, slots=True)
class PricePreview:
    """The tariff that applies at a connector now, and its components in plain words."""

    tariff: TariffView
    prices: ApplicablePrices


async def page_tariffs(principal: Principal, request: PageRequest) -> Page[TariffView]:
    """Tariffs are public information (price transparency): every role may read them."""
    require(principal, Permission.READ_STATIONS)
    return await repository.page_tariffs(principal.organization_id, request)


async def tariffs_by_ids(principal: Principal, tariff_ids: Sequence[int]) -> dict[int, TariffView]:
    require(principal, Permission.READ_STATIONS)
    found = await repository.tariffs_by_ids(principal.organization_id, tariff_ids)
    return {tariff.id: tariff for tariff in found}


async def page_assignments(
    principal: Principal, tariff_id: int, request: PageRequest
) -> Page[TariffAssignmentView]:
    """Where one tariff applies, oldest assignment first."""
    require(principal, Permission.READ_STATIONS)
    return await repository.page_assignments(principal.organization_id, tariff_id, request)


def _tariff_values(fields: dict[str, Any], current: TariffView | None) -> dict[str, Any]:
    """Checked values to store; the elements are parsed as the calculator will read them."""
    unknown = set(fields) - set(TARIFF_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot set {', '.join(sorted(unknown))}")
    values = dict(fields)
    for name in ("code", "name"):
        if name in values and not str(values[name] or "").strip():
            raise InvalidInput(f"a tariff needs a {name}")
    if "code" in values and len(values["code"]) > 36:
        raise InvalidInput("a tariff code (the OCPI id) has at most 36 characters")
    if values.get("type") is not None and values["type"] not in TARIFF_TYPES:
        raise InvalidInput(f"type is one of {', '.join(TARIFF_TYPES)}")
    for name in ("min_price_minor", "max_price_minor"):
        if values.get(name) is not None and values[name] < 0:
            raise InvalidInput(f"{name} cannot be negative")
    merged = {
        "currency": values.get("currency", current.currency if current else None),
        "elements": values.get("elements", current.elements if current else None),
    }
    try:
        snapshot = TariffSnapshot.from_ocpi(merged)
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidInput(f"not a valid tariff: {error}") from error
    if not snapshot.elements:
        raise InvalidInput("a tariff needs at least one element")
    values["currency"] = snapshot.currency
    values["elements"] = snapshot.to_ocpi()["elements"]  # decimals as exact strings
    low = values.get("min_price_minor", current.min_price_minor if current else None)
    high = values.get("max_price_minor", current.max_price_minor if current else None)
    if low is not None and high is not None and low > high:
        raise InvalidInput("the minimum price is above the maximum price")
    return values


async def create_tariff(
    uow: UnitOfWork, principal: Principal, fields: dict[str, Any]
) -> TariffView:
    require(principal, Permission.MANAGE)
    values = _tariff_values(fields, None)
    if "code" not in values or "name" not in values:
        raise InvalidInput("a tariff needs a code and a name")
    async with uow:
        if await repository.code_taken(principal.organization_id, values["code"]):
            raise AlreadyExists(f"tariff {values['code']!r} exists already")
        tariff_id = await repository.create_tariff(principal.organization_id, values)
    return (await repository.tariffs_by_ids(principal.organization_id, [tariff_id]))[0]


async def update_tariff(
    uow: UnitOfWork, principal: Principal, tariff_id: int, changes: dict[str, Any]
) -> TariffView:
    """Sessions that started already keep the tariff they started under."""
    require(principal, Permission.MANAGE)
    async with uow:
        found = await repository.tariffs_by_ids(principal.organization_id, [tariff_id])
        if not found:
            raise NotFound(f"no tariff {tariff_id}")
        values = _tariff_values(changes, found[0])
        if "code" in values and await repository.code_taken(
            principal.organization_id, values["code"], other_than=tariff_id
        ):
            raise AlreadyExists(f"tariff {values['code']!r} exists already")
        await repository.update_tariff(principal.organization_id, tariff_id, values)
    return (await repository.tariffs_by_ids(principal.organization_id, [tariff_id]))[0]


async def delete_tariff(uow: UnitOfWork, principal: Principal, tariff_id: int) -> None:
    require(principal, Permission.MANAGE)
    async with uow:
        if not await repository.delete_tariff(principal.organization_id, tariff_id):
            raise NotFound(f"no tariff {tariff_id}")


async def assign_tariff(
    uow: UnitOfWork, principal: Principal, tariff_id: int, scope: TariffAssignmentView
) -> TariffAssignmentView:
    """Apply a tariff to the whole organization (no place given), a site, a station or a
    connector, optionally only for one token group or roaming partner. It replaces the tariff
    assigned to exactly that place and narrowing."""
    require(principal, Permission.MANAGE)
    places = [scope.site_id, scope.station_id, scope.connector_id]
    if sum(place is not None for place in places) > 1:
        raise InvalidInput("assign to one place: a site, a station or a connector")
    async with uow:
        if not await repository.tariffs_by_ids(principal.organization_id, [tariff_id]):
            raise NotFound(f"no tariff {tariff_id}")
        await _own_places(principal, scope)
        assignment_id = await repository.assign(principal.organization_id, tariff_id, scope)
    return TariffAssignmentView(
        id=assignment_id,
        tariff_id=tariff_id,
        site_id=scope.site_id,
        station_id=scope.station_id,
        connector_id=scope.connector_id,
        token_group_id=scope.token_group_id,
        partner_id=scope.partner_id,
    )


async def _own_partners(principal: Principal, partner_ids: Sequence[int]) -> dict[int, Any]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.own_partner_ids(principal.organization_id, partner_ids)
    return dict.fromkeys(found)


async def _own_places(principal: Principal, scope: TariffAssignmentView) -> None:
    """Every place and partner named must be the caller's organization's."""
    checks: list[
        tuple[Callable[[Principal, Sequence[int]], Awaitable[dict[int, Any]]], int | None, str]
    ] = [
        (stations.sites_by_ids, scope.site_id, "site"),
        (stations.stations_by_ids, scope.station_id, "station"),
        (stations.connectors_by_ids, scope.connector_id, "connector"),
        (_own_partners, scope.partner_id, "partner"),
    ]
    for lookup, wanted, name in checks:
        if wanted is not None and wanted not in await lookup(principal, [wanted]):
            raise NotFound(f"no {name} {wanted}")


async def unassign_tariff(uow: UnitOfWork, principal: Principal, assignment_id: int) -> None:
    require(principal, Permission.MANAGE)
    async with uow:
        if not await repository.unassign(principal.organization_id, assignment_id):
            raise NotFound(f"no tariff assignment {assignment_id}")


def _specificity(assignment: TariffAssignmentView) -> tuple[bool, int]:
    """A token group's or partner's own tariff beats the general one; then the narrowest
    place wins: connector, station, site, organization."""
    narrowed = assignment.token_group_id is not None or assignment.partner_id is not None
    if assignment.connector_id is not None:
        level = 3
    elif assignment.station_id is not None:
        level = 2
    else:
        level = 1 if assignment.site_id is not None else 0
    return narrowed, level


async def tariff_at(
    organization_id: int,
    site_id: int | None,
    station_id: int,
    connector_id: int | None,
    token_group_id: str | None = None,
    partner_id: int | None = None,
    at: datetime | None = None,
) -> TariffView | None:
    """The tariff that applies at a connector for a token, at a moment (default now)."""
    moment = at or utcnow()
    candidates = await repository.candidate_assignments(
        organization_id, site_id, station_id, connector_id, token_group_id, partner_id
    )
    if not candidates:
        return None
    tariffs = {
        tariff.id: tariff
        for tariff in await repository.tariffs_by_ids(
            organization_id, [assignment.tariff_id for assignment in candidates]
        )
        if (tariff.start_at is None or tariff.start_at <= moment)
        and (tariff.end_at is None or moment < tariff.end_at)
    }
    valid = [assignment for assignment in candidates if assignment.tariff_id in tariffs]
    if not valid:
        return None
    best = max(valid, key=_specificity)
    return tariffs[best.tariff_id]


def _applies_at(assignment: TariffAssignmentView, place: ConnectorPlace) -> bool:
    return (
        (assignment.site_id is None or assignment.site_id == place.site_id)
        and (assignment.station_id is None or assignment.station_id == place.station_id)
        and (assignment.connector_id is None or assignment.connector_id == place.connector_id)
    )


async def tariff_codes_at(
    organization_id: int,
    places: Sequence[ConnectorPlace],
    partner_id: int | None = None,
    at: datetime | None = None,
) -> dict[int, str]:
    """The code (OCPI tariff id) of the tariff a roaming partner's drivers pay at each of these
    connectors now, by connector id; connectors without one are left out. One query for any
    number of connectors: the organization's assignments are few."""
    if not places:
        return {}
    moment = at or utcnow()
    assignments = await repository.assignments_for_partner(organization_id, partner_id)
    if not assignments:
        return {}
    tariffs = {
        tariff.id: tariff
        for tariff in await repository.tariffs_by_ids(
            organization_id, list({each.tariff_id for each in assignments})
        )
        if (tariff.start_at is None or tariff.start_at <= moment)
        and (tariff.end_at is None or moment < tariff.end_at)
    }
    valid = [each for each in assignments if each.tariff_id in tariffs]
    codes = {}
    for place in places:
        found = [each for each in valid if _applies_at(each, place)]
        if found:
            codes[place.connector_id] = tariffs[max(found, key=_specificity).tariff_id].code
    return codes


async def tariffs_for_partner(organization_id: int, partner_id: int) -> list[TariffView]:
    """The tariffs a roaming partner's drivers may pay: those assigned to everyone somewhere,
    and those narrowed to this partner, in the order they were added."""
    assigned = {
        each.tariff_id
        for each in await repository.assignments_for_partner(organization_id, partner_id)
    }
    return [
        tariff
        for tariff in await repository.tariffs_of_organization(organization_id)
        if tariff.id in assigned
    ]


async def price_preview(
    principal: Principal, connector_id: int, token_group_id: str | None = None
) -> PricePreview | None:
    """The price that applies at a connector now, before a session starts (AFIR): None when
    no tariff is assigned there."""
    require(principal, Permission.READ_STATIONS)
    connector = (await stations.connectors_by_ids(principal, [connector_id])).get(connector_id)
    if connector is None:
        raise NotFound(f"no connector {connector_id}")
    station = (await stations.stations_by_ids(principal, [connector.station_id]))[
        connector.station_id
    ]
    site = (
        (await stations.sites_by_ids(principal, [station.site_id])).get(station.site_id)
        if station.site_id is not None
        else None
    )
    tariff = await tariff_at(
        principal.organization_id,
        station.site_id,
        station.id,
        connector.id,
        token_group_id,
    )
    if tariff is None:
        return None
    prices = calculator.applicable_prices(
        tariff.snapshot(),
        utcnow(),
        site.time_zone if site else "UTC",
        power_w=connector.max_power_w,
    )
    return PricePreview(tariff=tariff, prices=prices)


async def snapshot_for_session(
    organization_id: int,
    station_id: int,
    connector_id: int | None,
    token_group_id: str | None,
    at: datetime,
) -> dict[str, Any] | None:
    """The tariff a session starting now is priced with, as it keeps it (OCPI JSON)."""
    site = await stations.site_of_station(station_id)
    tariff = await tariff_at(
        organization_id,
        site.id if site else None,
        station_id,
        connector_id,
        token_group_id,
        at=at,
    )
    return tariff.snapshot().to_ocpi() if tariff else None
