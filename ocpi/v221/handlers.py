"""OCPI 2.2.1 endpoints: version details, credentials, locations, tariffs,
sessions, CDRs, tokens, commands and charging profiles."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.errors import InvalidInput, NotFound
from app.roaming import service as roaming
from app.roaming.models import CallingPartner, HubPartyView, PartyRole
from db.row_ids import row_id
from ocpi import handling
from ocpi.auth import caller
from ocpi.envelope import OcpiError, Status, json_body, parsed, routing_headers
from ocpi.handling import base_url, listed, runtime_of
from ocpi.v221 import charging_profiles, commands, tokens, wire
from ocpi.v221.cdrs import cdrs as cdr_objects
from ocpi.v221.models import (
    VERSION,
    ChargingPreferences,
    ChargingPreferencesResponse,
    ClientInfo,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    ModuleId,
    Role,
    Token,
    ocpi_datetime,
    parsed_datetime,
)
from ocpi.v221.sessions import sessions as session_objects
from ocpi.v221.tariffs import tariffs as tariff_objects

# What this installation offers, as a CPO: (module, our interface role, path under the version).
OFFERED: list[tuple[ModuleId, InterfaceRole, str]] = [
    # Errata: our own credentials endpoint is listed as SENDER.
    (ModuleId.CREDENTIALS, InterfaceRole.SENDER, "credentials"),
    (ModuleId.LOCATIONS, InterfaceRole.SENDER, "locations"),
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER, "commands"),
    (ModuleId.TARIFFS, InterfaceRole.SENDER, "tariffs"),
    (ModuleId.CDRS, InterfaceRole.SENDER, "cdrs"),
    (ModuleId.SESSIONS, InterfaceRole.SENDER, "sessions"),
    (ModuleId.HUB_CLIENT_INFO, InterfaceRole.RECEIVER, "hubclientinfo"),
    (ModuleId.TOKENS, InterfaceRole.RECEIVER, "tokens"),
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER, "chargingprofiles"),
]


async def version_details(request: Request) -> Any:
    await caller(request, registration=True)
    base = f"{base_url(request)}/{VERSION}"
    return {
        "version": VERSION,
        "endpoints": [
            Endpoint(identifier=module.value, role=role, url=f"{base}/{path}").model_dump(
                mode="json"
            )
            for module, role, path in OFFERED
        ],
    }


async def credentials(request: Request) -> Any:
    return await handling.credentials(request, wire)


def _routing(partner: CallingPartner, operator: PartyRole) -> dict[str, str]:
    """The hub routing headers of a functional module's answer: from us, to the caller."""
    return routing_headers(
        operator.country_code, operator.party_id, partner.country_code, partner.party_id
    )


async def location_list(request: Request) -> Any:
    return await handling.location_list(request, wire, _routing)


async def location_object(request: Request) -> Any:
    return await handling.location_object(request, wire, _routing)


async def token_object(request: Request) -> Any:
    """GET, PUT or PATCH one of the partner's tokens."""
    return await handling.token_object(request, tokens, Token)


async def tariff_list(request: Request) -> Any:
    """The tariffs the partner's drivers may pay; date_from/date_to on their last change."""
    return await listed(request, roaming.tariffs_page, tariff_objects, _routing)


async def cdr_list(request: Request) -> Any:
    """The CDRs of the partner's tokens; date_from/date_to select by when a CDR was made."""
    return await listed(request, roaming.cdrs_page, cdr_objects, _routing)


async def session_list(request: Request) -> Any:
    """The sessions of the partner's tokens; date_from/date_to select by their last change."""
    return await listed(request, roaming.sessions_page, session_objects, _routing)


async def charging_preferences(request: Request) -> Any:
    """A driver's charging preferences for a session: checked, and answered NOT_POSSIBLE
    (sessions are not planned by preferences yet)."""
    partner, _ = await caller(request)
    parsed(ChargingPreferences, await json_body(request))
    text = request.path_params["session_id"]
    session_id = row_id(text)
    try:
        if session_id is None:
            raise NotFound(f"no session {text!r}")
        await roaming.charging_preferences(partner, session_id)
    except NotFound as error:
        raise OcpiError(Status.CLIENT_ERROR, error.message, http_status=404) from None
    return ChargingPreferencesResponse.NOT_POSSIBLE.value


async def hub_client_info(request: Request) -> Any:
    """GET or PUT what a hub says about one of the parties it connects us with."""
    runtime = runtime_of(request)
    partner, _ = await caller(request)
    country, party = request.path_params["country_code"], request.path_params["party_id"]
    try:
        if request.method == "GET":
            found = await roaming.hub_party(partner, country, party)
            return ClientInfo(
                party_id=found.party_id,
                country_code=found.country_code,
                role=Role(found.role),
                status=ConnectionStatus(found.status),
                last_updated=ocpi_datetime(found.last_updated),
            ).model_dump(mode="json")
        info = parsed(ClientInfo, await json_body(request))
        if (info.country_code.upper(), info.party_id.upper()) != (country.upper(), party.upper()):
            raise OcpiError(Status.INVALID_PARAMETERS, "the object names another party")
        await roaming.receive_hub_party(
            runtime.unit_of_work,
            partner,
            HubPartyView(
                country_code=info.country_code.upper(),
                party_id=info.party_id.upper(),
                role=info.role.value,
                status=info.status.value,
                last_updated=parsed_datetime(info.last_updated),
            ),
            runtime.settings.ocpi_max_hub_parties,
        )
    except NotFound as error:
        raise OcpiError(Status.CLIENT_ERROR, error.message, http_status=404) from None
    except InvalidInput as error:
        raise OcpiError(Status.INVALID_PARAMETERS, error.message) from None
    return None


async def command(request: Request) -> Any:
    """One of the commands a partner sends (START_SESSION, STOP_SESSION, ...)."""
    partner, _ = await caller(request)
    return await commands.command(request, partner)


async def charging_profile(request: Request) -> Any:
    """A partner's limit on one of its sessions: set (PUT), read (GET), removed (DELETE)."""
    partner, _ = await caller(request)
    return await charging_profiles.charging_profile(request, partner)


async def no_such_endpoint(request: Request) -> Any:
    """A path under /ocpi that is none of the endpoints the version details list."""
    raise OcpiError(Status.CLIENT_ERROR, "no such OCPI endpoint", http_status=404)
