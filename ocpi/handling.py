"""What every version's endpoints share: the runtime, our public base URL, the lists
partners pull a page at a time, the credentials handshake and the Locations, each in the
form of the version's wire module."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from app.auth.models import IdTokenType, PartnerToken
from app.errors import NotFound
from app.roaming import service as roaming
from app.roaming.models import CallingPartner, PartyRole, Registration
from app.roaming.peers import own_credentials
from app.runtime import Runtime
from db.row_ids import row_id
from ocpi.auth import caller
from ocpi.envelope import Answer, OcpiError, Status, first_problem, json_body, parsed
from ocpi.pagination import PageQuery
from ocpi.wire import Wire

PREFIX = "/ocpi"


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def base_url(request: Request) -> str:
    """Where our OCPI endpoints are, as partners reach them."""
    return runtime_of(request).settings.public_base_url + PREFIX


class ListPage(Protocol):
    @property
    def operator(self) -> PartyRole: ...

    @property
    def total(self) -> int: ...


P = TypeVar("P", bound=ListPage)
PageOf = Callable[[CallingPartner, datetime | None, datetime | None, int, int], Awaitable[P]]
# The headers that route an answer from us (the operator) to the caller; none in 2.1.1.
Routing = Callable[[CallingPartner, PartyRole], dict[str, str]]


def page_answer(
    request: Request,
    query: PageQuery,
    data: list[dict[str, Any]],
    total: int,
    routing: dict[str, str],
) -> Answer:
    """A page of a list, with its paging headers (Link, X-Total-Count, X-Limit)."""
    public = runtime_of(request).settings.public_base_url
    headers = query.headers(request, public, len(data), total)
    return Answer(data, {**headers, **routing})


async def listed(
    request: Request,
    page_of: PageOf[P],
    shown: Callable[[P], list[dict[str, Any]]],
    routing: Routing,
) -> Answer:
    """A page of one of the lists partners pull, with its paging and routing headers."""
    partner, _ = await caller(request)
    query = PageQuery.of(request, runtime_of(request).settings.ocpi_page_limit)
    page = await page_of(partner, query.date_from, query.date_to, query.offset, query.limit)
    return page_answer(request, query, shown(page), page.total, routing(partner, page.operator))


def _wire_answer(request: Request, wire: Wire, registration: Registration) -> Any:
    """Our credentials, as the answer to a partner's credentials call."""
    peers = runtime_of(request).roaming_peers
    assert peers is not None
    return wire.credentials_body(own_credentials(peers, registration.token, registration.identity))


async def credentials(request: Request, wire: Wire) -> Any:
    """The credentials endpoint of a version: GET reads ours, POST registers (with token A),
    PUT updates, DELETE unregisters; what the partner registers in is the version agreed."""
    runtime = runtime_of(request)
    partner, token = await caller(request, registration=True)
    if request.method == "GET":
        return _wire_answer(request, wire, await roaming.current_registration(partner, token))
    if request.method == "DELETE":
        await roaming.unregister(runtime.unit_of_work, partner, token)
        return None
    body = await json_body(request)
    try:
        theirs = wire.credentials_of(body)
    except ValidationError as error:
        raise OcpiError(Status.INVALID_PARAMETERS, first_problem(error)) from None
    assert runtime.roaming_peers is not None
    registration = await roaming.accept_registration(
        runtime.unit_of_work,
        runtime.roaming_peers,
        partner,
        token,
        theirs,
        version=wire.VERSION,
        update=request.method == "PUT",
    )
    return _wire_answer(request, wire, registration)


async def location_list(request: Request, wire: Wire, routing: Routing) -> Answer:
    """A page of our Locations, in the version's form."""
    partner, _ = await caller(request)
    query = PageQuery.of(request, runtime_of(request).settings.ocpi_page_limit)
    page = await roaming.locations(
        partner, query.date_from, query.date_to, query.offset, query.limit
    )
    # Building and checking a thousand Locations takes a while: off the event loop.
    data = await asyncio.to_thread(wire.location_bodies, page)
    return page_answer(request, query, data, page.total, routing(partner, page.operator))


def _site_id(text: str) -> int:
    site_id = row_id(text)
    if site_id is None:
        raise OcpiError(Status.UNKNOWN_LOCATION, f"no location {text!r}", http_status=404)
    return site_id


async def location_object(request: Request, wire: Wire, routing: Routing) -> Answer:
    """A Location, one of its EVSEs (by uid) or one of their connectors (by id)."""
    partner, _ = await caller(request)
    params = request.path_params
    try:
        found = await roaming.location(partner, _site_id(params["location_id"]))
    except NotFound as error:
        raise OcpiError(Status.UNKNOWN_LOCATION, error.message, http_status=404) from None
    (shown,) = wire.location_bodies(found)
    headers = routing(partner, found.operator)
    if "evse_uid" not in params:
        return Answer(shown, headers)
    evses = shown.get("evses", [])
    evse = next((each for each in evses if each["uid"] == params["evse_uid"]), None)
    if evse is None:
        raise OcpiError(Status.UNKNOWN_LOCATION, "no such EVSE at this location", 404)
    if "connector_id" not in params:
        return Answer(evse, headers)
    connectors = evse["connectors"]
    connector = next((each for each in connectors if each["id"] == params["connector_id"]), None)
    if connector is None:
        raise OcpiError(Status.UNKNOWN_LOCATION, "no such connector at this EVSE", 404)
    return Answer(connector, headers)


class TokenForms(Protocol):
    """A version's tokens module (`ocpi.v221.tokens`, `ocpi.v211.tokens`)."""

    @property
    def STATION_TYPES(self) -> Mapping[Any, IdTokenType]: ...  # a module constant

    def token_type(self, request: Request) -> Any: ...

    def as_received(
        self, partner_id: int, token: Any, country_code: str, party_id: str
    ) -> PartnerToken: ...

    def given_back(self, issued_as: dict[str, Any]) -> dict[str, Any]: ...

    def same_keys(
        self, token: Any, country_code: str, party_id: str, uid: str, kind: Any
    ) -> None: ...


def unknown_token() -> OcpiError:
    return OcpiError(Status.UNKNOWN_TOKEN, "no such token", http_status=404)


async def token_object(request: Request, forms: TokenForms, model: type[BaseModel]) -> Any:
    """GET, PUT or PATCH one of the partner's tokens, in the version's Token form."""
    runtime = runtime_of(request)
    partner, _ = await caller(request)
    country, party, uid = (request.path_params[k] for k in ("country_code", "party_id", "uid"))
    kind = forms.token_type(request)
    station_type = forms.STATION_TYPES[kind].value
    try:
        stored = await roaming.received_token(partner, country, party, uid, station_type)
    except NotFound as error:
        raise OcpiError(Status.CLIENT_ERROR, error.message, http_status=404) from None
    if request.method == "GET":
        if stored is None:
            raise unknown_token()
        return forms.given_back(stored.issued_as)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise OcpiError(Status.INVALID_PARAMETERS, "the body is a Token object")
    if request.method == "PATCH":
        if stored is None:
            raise unknown_token()
        if "last_updated" not in body:
            raise OcpiError(Status.INVALID_PARAMETERS, "last_updated: a PATCH must carry it")
        body = {**forms.given_back(stored.issued_as), **body}
    token = parsed(model, body)
    forms.same_keys(token, country, party, uid, kind)
    await roaming.receive_token(
        runtime.unit_of_work,
        partner,
        country,
        party,
        forms.as_received(partner.partner_id, token, country, party),
    )
    return None
