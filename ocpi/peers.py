"""Our calls to partners' OCPI platforms: the roaming domain's `RoamingPeers` port.

Every call goes through the outbound rule (`app.outbound`: https, no inward address, checked
again at send time), carries `Authorization: Token …` with the token as the partner's agreed
version writes it (`ocpi.wire`: base64 in 2.2.1, as it is in 2.1.1) and fresh request and
correlation ids, and reads at most `CPMS_OCPI_MAX_RESPONSE_BYTES` of the answer, which must be
an OCPI envelope with status 1000 whose data is the object the spec says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from app.auth.models import IssuerVerdict
from app.billing.models import CdrView
from app.errors import InvalidInput
from app.outbound import OutboundPolicy
from app.roaming.errors import NoCommonVersion, PartnerRefused, PartnerUnreachable, Unsendable
from app.roaming.models import (
    Locations,
    PartyRole,
    PeerCredentials,
    PeerVersion,
    PushTarget,
    SessionReport,
    Tariffs,
    TokenPage,
    TokenSource,
)
from app.roaming.peers import WholeLocations
from app.stations.models import EvseState
from app.tariffs.models import TariffView
from app.timeparse import utcnow
from ocpi.envelope import CORRELATION_ID, REQUEST_ID, first_problem
from ocpi.v211 import wire as v211
from ocpi.v221 import wire as v221
from ocpi.v221.locations import evse_status
from ocpi.v221.models import (
    Envelope,
    LocationReferences,
    Version,
    ocpi_datetime,
)
from ocpi.wire import NotSendable, Wire

logger = logging.getLogger(__name__)

_VERSIONS = TypeAdapter(list[Version])
VERSIONS_PATH = "/ocpi/versions"


# The versions we speak, the one we prefer first: a partner offering both gets 2.2.1.
WIRES: dict[str, Wire] = {each.VERSION: each for each in (v221, v211)}


def wire_of(version: str | None) -> Wire:
    """The wire format of a partner's agreed version."""
    wire = WIRES.get(version or "")
    if wire is None:
        raise Unsendable(f"OCPI {version} is not a version we speak")
    return wire


class _TokenRefused(PartnerUnreachable):
    """HTTP 401: the partner does not take the token as we sent it."""


# EVSE updates sent to one partner at the same time, and connections kept open to it.
PUSH_CONCURRENCY = 8
# Client errors that say nothing about the object sent: our token, a limit, a timeout.
TRANSIENT = {401, 403, 408, 429}


class OcpiPeers:
    def __init__(
        self,
        outbound: OutboundPolicy,
        public_base_url: str,
        timeout_s: float,
        max_response_bytes: int,
    ) -> None:
        self._outbound = outbound
        self._base = public_base_url
        self._timeout_s = timeout_s
        self._max_bytes = max_response_bytes
        # What each partner registration was last sent of each EVSE (by EVSE row id): status.
        self._pushed: dict[tuple[tuple[int, datetime | None], int], str] = {}
        # A client (a pool of kept-alive connections) per partner and event loop, and one for
        # calls before a partner is known: a client per call would open new connections and
        # load the CA bundle each time, and one pool for every partner costs each request a
        # check of every idle connection in it (httpcore's expiry check), which was most of
        # what a busy push to five partners spent.
        self._clients: dict[int | None, httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def _connection(self, partner_id: int | None = None) -> AsyncIterator[httpx.AsyncClient]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._clients, self._loop = {}, loop
        client = self._clients.get(partner_id)
        if client is None or client.is_closed:
            client = self._outbound.client(self._timeout_s, connections=PUSH_CONCURRENCY)
            self._clients[partner_id] = client
        yield client

    async def close(self) -> None:
        if self._loop is asyncio.get_running_loop():
            for client in self._clients.values():
                await client.aclose()
        self._clients = {}

    def own_versions_url(self) -> str:
        return self._base + VERSIONS_PATH

    async def discover(
        self, versions_url: str, token: str, version: str | None = None
    ) -> PeerVersion:
        """The partner's endpoints in `version`, or else in the newest version both speak.
        The token goes as that version sends it; before the version is known, in base64 and
        then, if the partner refuses that, as it is (2.1.1 peers read it so)."""
        self._outbound.check_url(versions_url, "the versions URL")
        wanted = [version] if version else list(WIRES)
        trials = [wire_of(each) for each in wanted]
        async with self._connection() as client:
            for wire in trials:
                try:
                    listed = await self._call(
                        client, "GET", versions_url, wire.authorization(token)
                    )
                    break
                except _TokenRefused:
                    if wire is trials[-1]:
                        raise
            versions = {each.version: each for each in self._parse(_VERSIONS, listed, versions_url)}
            chosen = next((versions[each] for each in wanted if each in versions), None)
            if chosen is None:
                offered = ", ".join(versions) or "none"
                raise NoCommonVersion(
                    f"the partner offers OCPI {offered}; we speak {', '.join(wanted)}"
                )
            agreed = wire_of(chosen.version)
            self._outbound.check_url(chosen.url, "the version details URL")
            details = await self._call(client, "GET", chosen.url, agreed.authorization(token))
        try:
            found = agreed.endpoints_of(details)
        except ValidationError as error:
            raise PartnerUnreachable(f"{chosen.url}: {first_problem(error, 'data')}") from None
        for each in found:
            self._outbound.check_url(each.url, f"the {each.identifier} endpoint")
        return PeerVersion(version=agreed.VERSION, endpoints=found)

    async def exchange_credentials(
        self,
        credentials_url: str,
        token: str,
        ours: PeerCredentials,
        *,
        version: str,
        update: bool = False,
    ) -> PeerCredentials:
        wire = wire_of(version)
        async with self._connection() as client:
            answer = await self._call(
                client,
                "PUT" if update else "POST",
                credentials_url,
                wire.authorization(token),
                wire.credentials_body(ours),
            )
        try:
            return wire.credentials_of(answer)
        except ValidationError as error:
            raise PartnerUnreachable(f"{credentials_url}: {first_problem(error, 'data')}") from None

    async def push_evse_statuses(
        self,
        target: PushTarget,
        operator: PartyRole,
        states: Sequence[EvseState],
        whole: WholeLocations,
    ) -> None:
        """PATCH each EVSE's status to the partner's locations receiver
        (`{url}/{our country}/{our party}/{location}/{evse uid}`), skipping those it was sent
        last; where the partner refuses a PATCH (an EVSE or Location it does not have yet),
        PUT the whole Location, as OCPI advises. PartnerUnreachable once all were tried if one
        failed."""
        base = f"{target.locations_url}/{operator.country_code}/{operator.party_id}"
        updates = []
        for state in states:
            status = evse_status(state.station, state.connectors).value
            key = (target.connection, state.evse.id)
            if self._pushed.get(key) != status:
                updates.append((key, f"{base}/{state.site.id}/{state.evse.id}", status))
        if not updates:
            return
        site_of = {state.evse.id: state.site.id for state in states}
        refused: set[int] = set()
        moment = ocpi_datetime(utcnow())
        auth, routing = _authorization(target), _routing(operator, target)
        gate = asyncio.Semaphore(PUSH_CONCURRENCY)
        failures: list[str] = []
        async with self._connection(target.partner_id) as client:

            async def send(
                key: tuple[tuple[int, datetime | None], int], url: str, status: str
            ) -> None:
                async with gate:
                    try:
                        body = {"status": status, "last_updated": moment}
                        await self._call(client, "PATCH", url, auth, body, routing)
                    except PartnerRefused:
                        refused.add(site_of[key[1]])
                    except PartnerUnreachable as error:
                        failures.append(error.message)
                    else:
                        self._pushed[key] = status

            await asyncio.gather(*(send(*update) for update in updates))
            if refused:
                page = await whole(sorted(refused))
                failures += await self._put_whole(client, target, page)
        if failures:
            raise PartnerUnreachable(
                f"{len(failures)} of {len(updates)} EVSE updates failed; first: {failures[0]}"
            )

    async def put_locations(
        self, target: PushTarget, operator: PartyRole, locations: Locations
    ) -> None:
        """PUT each whole Location at `{url}/{our country}/{our party}/{location id}`."""
        async with self._connection(target.partner_id) as client:
            failures = await self._put_whole(client, target, locations)
        if failures:
            raise PartnerUnreachable(
                f"{len(failures)} of {len(locations.sites)} Locations failed; first: {failures[0]}"
            )

    async def _put_whole(
        self, client: httpx.AsyncClient, target: PushTarget, page: Locations
    ) -> list[str]:
        """PUT these Locations whole, one by one; why each that could not be delivered did.
        What the partner took is remembered as sent, EVSE by EVSE; one it refuses is logged
        and not sent again (sending it again would be refused again; it can pull it)."""
        operator = page.operator
        assert target.locations_url is not None
        base = f"{target.locations_url}/{operator.country_code}/{operator.party_id}"
        auth, routing = _authorization(target), _routing(operator, target)
        failures = []
        for body in wire_of(target.version).location_bodies(page):
            url = f"{base}/{body['id']}"
            try:
                await self._call(client, "PUT", url, auth, body, routing)
            except PartnerRefused as error:
                logger.warning("partner %s refused a Location: %s", target.partner_id, error)
            except PartnerUnreachable as error:
                failures.append(error.message)
            else:
                for evse in body.get("evses", []):
                    self._pushed[(target.connection, int(evse["uid"]))] = evse["status"]
        return failures

    async def push_session(
        self,
        target: PushTarget,
        operator: PartyRole,
        report: SessionReport,
        *,
        whole: bool,
        places: WholeLocations,
    ) -> None:
        """PUT the whole Session, or PATCH what changes while it runs, at
        `{url}/{our country}/{our party}/{session id}`; a PATCH the partner refuses (it does
        not know the session) becomes a PUT. `places` gives the Location of its site, which
        2.1.1 carries in the Session."""
        assert target.sessions_url is not None
        url = (
            f"{target.sessions_url}/{operator.country_code}/{operator.party_id}/{report.session.id}"
        )
        wire = wire_of(target.version)
        routing = _routing(operator, target)
        async with self._connection(target.partner_id) as client:
            if not whole:
                try:
                    await self._call(
                        client,
                        "PATCH",
                        url,
                        _authorization(target),
                        wire.session_changes(report),
                        routing,
                        empty=True,
                    )
                    return
                except PartnerRefused:
                    pass
            site_id = report.session.site_id
            located = None
            if wire.SESSION_CARRIES_PLACE:
                located = await places([site_id] if site_id is not None else [])
            try:
                body = wire.session_body(report, operator, located)
            except NotSendable as error:
                raise Unsendable(str(error)) from None
            await self._call(client, "PUT", url, _authorization(target), body, routing, empty=True)

    async def authorize_token(
        self,
        target: PushTarget,
        operator: PartyRole,
        tokens_url: str,
        token: dict[str, Any],
        location_id: str | None,
    ) -> IssuerVerdict:
        """POST `{tokens}/{uid}/authorize?type=` with the Location the station is at; the
        partner's AuthorizationInfo as a verdict."""
        url = httpx.URL(f"{tokens_url}/{quote(str(token.get('uid', '')), safe='')}/authorize")
        url = url.copy_add_param("type", str(token.get("type") or "RFID"))
        body = LocationReferences(location_id=location_id).model_dump() if location_id else None
        async with self._connection(target.partner_id) as client:
            data = await self._call(
                client, "POST", str(url), _authorization(target), body, _routing(operator, target)
            )
        try:
            return wire_of(target.version).verdict(data)
        except ValidationError as error:
            raise PartnerUnreachable(f"{tokens_url}: {first_problem(error, 'data')}") from None

    async def pull_tokens(
        self,
        source: TokenSource,
        operator: PartyRole,
        changed_from: datetime | None,
        max_tokens: int,
    ) -> AsyncIterator[TokenPage]:
        """GET `{tokens}[?date_from=…]`, then each page its `Link` (rel="next") names, each
        URL checked by the outbound rule first; every object read as the agreed version's
        Token (one that is not is counted and left out)."""
        target = source.target
        wire = wire_of(target.version)
        url: str | None = source.tokens_url
        if changed_from is not None:
            url = str(
                httpx.URL(source.tokens_url).copy_add_param(
                    "date_from", ocpi_datetime(changed_from)
                )
            )
        auth, routing = _authorization(target), _routing(operator, target)
        visited: set[str] = set()
        listed = 0
        async with self._connection(target.partner_id) as client:
            while url is not None:
                try:
                    self._outbound.check_url(url, "a page of the partner's tokens")
                except InvalidInput as error:
                    raise PartnerUnreachable(error.message) from None
                visited.add(url)
                data, response = await self._exchange(client, "GET", url, auth, None, routing)
                if not isinstance(data, list):
                    raise PartnerUnreachable(f"GET {url}: the data is not a list of Tokens")
                listed += len(data)
                if listed > max_tokens:
                    raise PartnerUnreachable(
                        f"GET {url}: more than {max_tokens} tokens listed"
                        " (CPMS_OCPI_MAX_PULLED_TOKENS)"
                    )
                # Reading a thousand Tokens takes a while: off the event loop.
                yield await asyncio.to_thread(_token_page, wire, target, data)
                following = response.links.get("next", {}).get("url")
                url = str(response.url.join(following)) if following and data else None
                if url is not None and url in visited:
                    raise PartnerUnreachable(f"GET {url}: the list's next page is one already read")

    async def put_tariff(self, target: PushTarget, operator: PartyRole, tariff: TariffView) -> None:
        """PUT the Tariff at `{url}/{our country}/{our party}/{tariff id}`."""
        page = Tariffs(operator=operator, tariffs=[tariff], total=1)
        try:
            body = wire_of(target.version).tariff_body(tariff, page)
        except NotSendable as error:
            raise Unsendable(f"tariff {tariff.code}: {error}") from None
        async with self._connection(target.partner_id) as client:
            await self._call(
                client,
                "PUT",
                self._tariff_url(target, operator, tariff.code),
                _authorization(target),
                body,
                _routing(operator, target),
                empty=True,
            )

    async def delete_tariff(self, target: PushTarget, operator: PartyRole, code: str) -> None:
        async with self._connection(target.partner_id) as client:
            await self._call(
                client,
                "DELETE",
                self._tariff_url(target, operator, code),
                _authorization(target),
                None,
                _routing(operator, target),
                empty=True,
            )

    @staticmethod
    def _tariff_url(target: PushTarget, operator: PartyRole, code: str) -> str:
        assert target.tariffs_url is not None
        return (
            f"{target.tariffs_url}/{operator.country_code}/{operator.party_id}"
            f"/{quote(code, safe='')}"
        )

    async def send_cdr(self, target: PushTarget, operator: PartyRole, cdr: CdrView) -> None:
        """POST the CDR to the partner's CDRs receiver (OCPI: once, complete and final)."""
        assert target.cdrs_url is not None
        try:
            body = wire_of(target.version).cdr_body(cdr, operator)
        except NotSendable as error:
            raise Unsendable(f"CDR {cdr.code}: {error}") from None
        async with self._connection(target.partner_id) as client:
            await self._call(
                client,
                "POST",
                target.cdrs_url,
                _authorization(target),
                body,
                _routing(operator, target),
                empty=True,
            )

    async def unregister(self, credentials_url: str, token: str, version: str) -> None:
        self._outbound.check_url(credentials_url, "the credentials endpoint")
        auth = wire_of(version).authorization(token)
        async with self._connection() as client:
            await self._call(client, "DELETE", credentials_url, auth, empty=True)

    async def report_result(
        self, response_url: str, token: str, body: dict[str, Any], version: str
    ) -> None:
        self._outbound.check_url(response_url, "response_url")
        async with self._connection() as client:
            auth = wire_of(version).authorization(token)
            await self._call(client, "POST", response_url, auth, body, empty=True)

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        authorization: str,
        body: Any = None,
        routing: dict[str, str] | None = None,
        *,
        empty: bool = False,
    ) -> Any:
        """The `data` of a successful OCPI answer; PartnerUnreachable for anything else
        (_TokenRefused for HTTP 401). `authorization`: the header's value, as the version
        writes the token; `routing`: the headers a functional module's request carries."""
        data, _ = await self._exchange(
            client, method, url, authorization, body, routing, empty=empty
        )
        return data

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        authorization: str,
        body: Any = None,
        routing: dict[str, str] | None = None,
        *,
        empty: bool = False,
    ) -> tuple[Any, httpx.Response]:
        """As `_call`, with the response (its headers: a list's paging)."""
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": authorization,
            REQUEST_ID: request_id,
            CORRELATION_ID: request_id,
            **(routing or {}),
        }
        try:
            async with client.stream(method, url, headers=headers, json=body) as response:
                raw = await self._read(response, url)
        except httpx.HTTPError as error:
            raise PartnerUnreachable(f"{method} {url}: {error or type(error).__name__}") from None
        if response.status_code == 401:
            raise _TokenRefused(f"{method} {url}: HTTP 401, the token was refused")
        if empty and 200 <= response.status_code < 300 and not raw.strip():
            return None, response  # an answer to a result POST may have no body
        try:
            answer = Envelope.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            if response.status_code == 404:  # a plain "not found": no such object there
                raise PartnerRefused(f"{method} {url}: HTTP 404") from None
            raise PartnerUnreachable(
                f"{method} {url}: HTTP {response.status_code}, not an OCPI answer"
            ) from None
        refused = (400 <= response.status_code < 500 and response.status_code not in TRANSIENT) or (
            response.status_code == 200 and 2000 <= answer.status_code < 3000
        )
        if refused:
            raise PartnerRefused(
                f"{method} {url}: HTTP {response.status_code}, OCPI {answer.status_code}"
                + (f" ({answer.status_message})" if answer.status_message else "")
            )
        if response.status_code != 200 or answer.status_code != 1000:
            raise PartnerUnreachable(
                f"{method} {url}: HTTP {response.status_code}, OCPI {answer.status_code}"
                + (f" ({answer.status_message})" if answer.status_message else "")
            )
        return answer.data, response

    async def _read(self, response: httpx.Response, url: str) -> bytes:
        chunks = bytearray()
        async for chunk in response.aiter_bytes():
            chunks += chunk
            if len(chunks) > self._max_bytes:
                raise PartnerUnreachable(f"{url}: the answer exceeds {self._max_bytes} bytes")
        return bytes(chunks)

    @staticmethod
    def _parse(adapter: TypeAdapter[Any], data: Any, url: str) -> Any:
        try:
            return adapter.validate_python(data)
        except ValidationError as error:
            raise PartnerUnreachable(f"{url}: {first_problem(error, 'data')}") from None


def _token_page(wire: Wire, target: PushTarget, data: list[Any]) -> TokenPage:
    """A page of the partner's token list, each object read as the version's Token."""
    tokens, unreadable = [], 0
    for each in data:
        try:
            tokens.append(
                wire.pulled_token(each, target.partner_id, target.country_code, target.party_id)
            )
        except ValidationError:
            unreadable += 1
    return TokenPage(tokens, unreadable)


def _authorization(target: PushTarget) -> str:
    return wire_of(target.version).authorization(target.token)


def _routing(operator: PartyRole, target: PushTarget) -> dict[str, str]:
    """The hub routing headers of a push: from us, to the partner."""
    return wire_of(target.version).routing(operator, target.country_code, target.party_id)
