"""Every query of the tariffs domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from piccolo.columns.combination import Combinable

from app.pagination import Page, PageRequest
from app.tariffs.models import TariffAssignmentView, TariffView
from db.paging import page_by_id
from db.tables import Partner, Tariff, TariffAssignment

_TARIFF_COLUMNS = (
    Tariff.id,
    Tariff.code,
    Tariff.name,
    Tariff.currency,
    Tariff.type,
    Tariff.elements,
    Tariff.min_price_minor,
    Tariff.max_price_minor,
    Tariff.alt_text,
    Tariff.start_at,
    Tariff.end_at,
    Tariff.updated_at,
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _tariff(row: dict[str, Any]) -> TariffView:
    row["elements"] = _json(row["elements"]) or []
    row["alt_text"] = _json(row["alt_text"]) or []
    return TariffView(**row)


async def page_tariffs(organization_id: int, request: PageRequest) -> Page[TariffView]:
    query = Tariff.select(*_TARIFF_COLUMNS).where(Tariff.organization == organization_id)
    return await page_by_id(query, Tariff.id, request, _tariff)


async def tariffs_by_ids(organization_id: int, tariff_ids: Sequence[int]) -> list[TariffView]:
    rows = await Tariff.select(*_TARIFF_COLUMNS).where(
        (Tariff.organization == organization_id) & Tariff.id.is_in(list(tariff_ids))
    )
    return [_tariff(row) for row in rows]


async def code_taken(organization_id: int, code: str, other_than: int | None = None) -> bool:
    query = Tariff.exists().where((Tariff.organization == organization_id) & (Tariff.code == code))
    if other_than is not None:
        query = query.where(Tariff.id != other_than)
    return await query


async def create_tariff(organization_id: int, values: dict[str, Any]) -> int:
    tariff = Tariff(organization=organization_id, **values)
    await tariff.save()
    return int(tariff.id)


async def update_tariff(organization_id: int, tariff_id: int, values: dict[str, Any]) -> bool:
    updated = (
        await Tariff.update({getattr(Tariff, name): value for name, value in values.items()})
        .where((Tariff.organization == organization_id) & (Tariff.id == tariff_id))
        .returning(Tariff.id)
    )
    return bool(updated)


async def delete_tariff(organization_id: int, tariff_id: int) -> bool:
    """Its assignments go with it; sessions keep the snapshot they were priced with."""
    deleted = (
        await Tariff.delete()
        .where((Tariff.organization == organization_id) & (Tariff.id == tariff_id))
        .returning(Tariff.id)
    )
    return bool(deleted)


_ASSIGNMENT_COLUMNS = (
    TariffAssignment.id,
    TariffAssignment.tariff,
    TariffAssignment.site,
    TariffAssignment.station,
    TariffAssignment.connector,
    TariffAssignment.token_group_id,
    TariffAssignment.partner,
)


def _assignment(row: dict[str, Any]) -> TariffAssignmentView:
    return TariffAssignmentView(
        id=row["id"],
        tariff_id=row["tariff"],
        site_id=row["site"],
        station_id=row["station"],
        connector_id=row["connector"],
        token_group_id=row["token_group_id"],
        partner_id=row["partner"],
    )


def _same_scope(
    site_id: int | None,
    station_id: int | None,
    connector_id: int | None,
    token_group_id: str | None,
    partner_id: int | None,
) -> Any:
    where: Combinable = TariffAssignment.id.is_not_null()
    for column, value in (
        (TariffAssignment.site, site_id),
        (TariffAssignment.station, station_id),
        (TariffAssignment.connector, connector_id),
        (TariffAssignment.token_group_id, token_group_id),
        (TariffAssignment.partner, partner_id),
    ):
        where = where & (column.is_null() if value is None else column == value)
    return where


async def assign(organization_id: int, tariff_id: int, scope: TariffAssignmentView) -> int:
    """One tariff per scope: an assignment to the same place and narrowing replaces the old."""
    same = _same_scope(
        scope.site_id,
        scope.station_id,
        scope.connector_id,
        scope.token_group_id,
        scope.partner_id,
    )
    await TariffAssignment.delete().where((TariffAssignment.organization == organization_id) & same)
    assignment = TariffAssignment(
        organization=organization_id,
        tariff=tariff_id,
        site=scope.site_id,
        station=scope.station_id,
        connector=scope.connector_id,
        token_group_id=scope.token_group_id,
        partner=scope.partner_id,
    )
    await assignment.save()
    return int(assignment.id)


async def unassign(organization_id: int, assignment_id: int) -> bool:
    deleted = (
        await TariffAssignment.delete()
        .where(
            (TariffAssignment.organization == organization_id)
            & (TariffAssignment.id == assignment_id)
        )
        .returning(TariffAssignment.id)
    )
    return bool(deleted)


async def page_assignments(
    organization_id: int, tariff_id: int, request: PageRequest
) -> Page[TariffAssignmentView]:
    query = TariffAssignment.select(*_ASSIGNMENT_COLUMNS).where(
        (TariffAssignment.organization == organization_id) & (TariffAssignment.tariff == tariff_id)
    )
    return await page_by_id(query, TariffAssignment.id, request, _assignment)


async def candidate_assignments(
    organization_id: int,
    site_id: int | None,
    station_id: int,
    connector_id: int | None,
    token_group_id: str | None,
    partner_id: int | None,
) -> list[TariffAssignmentView]:
    """Every assignment that could apply at this connector for this token."""
    where: Combinable = TariffAssignment.organization == organization_id
    for column, value in (
        (TariffAssignment.site, site_id),
        (TariffAssignment.station, station_id),
        (TariffAssignment.connector, connector_id),
        (TariffAssignment.token_group_id, token_group_id),
        (TariffAssignment.partner, partner_id),
    ):
        where = where & (
            column.is_null() | (column == value) if value is not None else column.is_null()
        )
    rows = await TariffAssignment.select(*_ASSIGNMENT_COLUMNS).where(where)
    return [_assignment(row) for row in rows]


async def assignments_for_partner(
    organization_id: int, partner_id: int | None
) -> list[TariffAssignmentView]:
    """Every assignment that applies to anyone, or only to this partner's drivers."""
    partner: Combinable = TariffAssignment.partner.is_null()
    if partner_id is not None:
        partner = partner | (TariffAssignment.partner == partner_id)
    rows = await TariffAssignment.select(*_ASSIGNMENT_COLUMNS).where(
        (TariffAssignment.organization == organization_id)
        & TariffAssignment.token_group_id.is_null()
        & partner
    )
    return [_assignment(row) for row in rows]


async def tariffs_of_organization(organization_id: int) -> list[TariffView]:
    """Every tariff of the organization, in the order they were added."""
    rows = (
        await Tariff.select(*_TARIFF_COLUMNS)
        .where(Tariff.organization == organization_id)
        .order_by(Tariff.id)
    )
    return [_tariff(row) for row in rows]


async def own_partner_ids(organization_id: int, partner_ids: Sequence[int]) -> set[int]:
    """Which of these roaming partners are the organization's (a tariff may be a partner's
    own: the assignment names the partner's row, as it names a site's or a station's)."""
    rows = await Partner.select(Partner.id).where(
        (Partner.organization == organization_id) & Partner.id.is_in(list(partner_ids))
    )
    return {row["id"] for row in rows}
