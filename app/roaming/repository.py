"""Every query of the roaming domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.pagination import Page, PageRequest
from app.roaming.models import PartnerView
from db.paging import page_by_id
from db.tables import Partner

_COLUMNS = (
    Partner.id,
    Partner.name,
    Partner.country_code,
    Partner.party_id,
    Partner.roles,
    Partner.version,
    Partner.status,
    Partner.created_at,
)


def _partner(row: dict[str, Any]) -> PartnerView:
    roles = row.pop("roles")
    roles = json.loads(roles) if isinstance(roles, str) else roles or []
    return PartnerView(
        **row, roles=[role if isinstance(role, str) else role["role"] for role in roles]
    )


async def page_partners(organization_id: int, request: PageRequest) -> Page[PartnerView]:
    query = Partner.select(*_COLUMNS).where(Partner.organization == organization_id)
    return await page_by_id(query, Partner.id, request, _partner)


async def partners_by_ids(organization_id: int, partner_ids: Sequence[int]) -> list[PartnerView]:
    rows = await Partner.select(*_COLUMNS).where(
        (Partner.organization == organization_id) & Partner.id.is_in(list(partner_ids))
    )
    return [_partner(row) for row in rows]
