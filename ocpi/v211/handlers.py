"""OCPI 2.1.1 endpoints: version details, credentials, locations, tariffs, sessions, CDRs,
tokens and commands.

The same domain answers as in 2.2.1 (`ocpi.v221.handlers`), through the same shared
handling; only the objects' form differs. 2.1.1 has no hubs, so answers carry no routing
headers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.roaming import service as roaming
from app.roaming.models import CallingPartner, PartyRole
from ocpi import handling
from ocpi.auth import caller
from ocpi.handling import base_url, listed, page_answer, runtime_of
from ocpi.pagination import PageQuery
from ocpi.v211 import commands, tokens, wire
from ocpi.v211.cdrs import cdrs
from ocpi.v211.models import VERSION, Endpoint, ModuleId, Token
from ocpi.v211.sessions import sessions
from ocpi.v211.tariffs import tariff_bodies

__all__ = ["VERSION"]

# What this installation offers in 2.1.1, as a CPO: (module, path under the version).
OFFERED: list[tuple[ModuleId, str]] = [
    (ModuleId.CREDENTIALS, "credentials"),
    (ModuleId.LOCATIONS, "locations"),
    (ModuleId.TARIFFS, "tariffs"),
    (ModuleId.SESSIONS, "sessions"),
    (ModuleId.CDRS, "cdrs"),
    (ModuleId.TOKENS, "tokens"),
    (ModuleId.COMMANDS, "commands"),
]


def _no_routing(partner: CallingPartner, operator: PartyRole) -> dict[str, str]:
    return {}


async def version_details(request: Request) -> Any:
    await caller(request, registration=True)
    base = f"{base_url(request)}/{VERSION}"
    return {
        "version": VERSION,
        "endpoints": [
            Endpoint(identifier=module.value, url=f"{base}/{path}").model_dump(mode="json")
            for module, path in OFFERED
        ],
    }


async def credentials(request: Request) -> Any:
    return await handling.credentials(request, wire)


async def location_list(request: Request) -> Any:
    return await handling.location_list(request, wire, _no_routing)


async def location_object(request: Request) -> Any:
    return await handling.location_object(request, wire, _no_routing)


async def tariff_list(request: Request) -> Any:
    """The tariffs the partner's drivers may pay, those 2.1.1 can express."""
    return await listed(request, roaming.tariffs_page, tariff_bodies, _no_routing)


async def session_list(request: Request) -> Any:
    """The sessions of the partner's tokens, each with its place as a whole Location."""
    partner, _ = await caller(request)
    query = PageQuery.of(request, runtime_of(request).settings.ocpi_page_limit)
    page = await roaming.sessions_page(
        partner, query.date_from, query.date_to, query.offset, query.limit
    )
    site_ids = sorted(
        {each.session.site_id for each in page.sessions if each.session.site_id is not None}
    )
    places = await roaming.whole_locations(partner.organization_id, partner.partner_id, site_ids)
    return page_answer(request, query, sessions(page, places), page.total, {})


async def cdr_list(request: Request) -> Any:
    """The CDRs of the partner's tokens; date_from/date_to select by when a CDR was made."""
    return await listed(request, roaming.cdrs_page, cdrs, _no_routing)


async def token_object(request: Request) -> Any:
    """GET, PUT or PATCH one of the partner's tokens."""
    return await handling.token_object(request, tokens, Token)


async def command(request: Request) -> Any:
    """One of the commands a partner sends (START_SESSION, STOP_SESSION, ...)."""
    partner, _ = await caller(request)
    return await commands.command(request, partner)
