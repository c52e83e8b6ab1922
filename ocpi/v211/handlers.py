"""OCPI 2.1.1 endpoints: version details, credentials, locations and tariffs.

The same domain answers as in 2.2.1 (`ocpi.v221.handlers`), through the same shared
handling; only the objects' form differs. 2.1.1 has no hubs, so answers carry no routing
headers. Sessions, CDRs, tokens and commands are offered in 2.2.1 only: a partner that
registers in 2.1.1 sees our Locations and Tariffs and gets them pushed."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.roaming import service as roaming
from app.roaming.models import CallingPartner, PartyRole
from ocpi import handling
from ocpi.auth import caller
from ocpi.handling import base_url, listed
from ocpi.v211 import wire
from ocpi.v211.models import VERSION, Endpoint, ModuleId
from ocpi.v211.tariffs import tariff_bodies

__all__ = ["VERSION"]

# What this installation offers in 2.1.1, as a CPO: (module, path under the version).
OFFERED: list[tuple[ModuleId, str]] = [
    (ModuleId.CREDENTIALS, "credentials"),
    (ModuleId.LOCATIONS, "locations"),
    (ModuleId.TARIFFS, "tariffs"),
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
