"""Use cases of the roaming domain."""

from __future__ import annotations

from collections.abc import Sequence

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.pagination import Page, PageRequest
from app.roaming import repository
from app.roaming.models import PartnerView


async def page_partners(principal: Principal, request: PageRequest) -> Page[PartnerView]:
    """The organization's roaming partners in the order they were added."""
    require(principal, Permission.READ_NETWORK)
    return await repository.page_partners(principal.organization_id, request)


async def partners_by_ids(
    principal: Principal, partner_ids: Sequence[int]
) -> dict[int, PartnerView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.partners_by_ids(principal.organization_id, partner_ids)
    return {partner.id: partner for partner in found}
