"""A test eMSP: a real HTTP server that speaks OCPI 2.2.1 (or only 2.1.1) from the other
side, checks every object the CPMS sends against the OCPI object definitions of its version,
and calls the CPMS as an eMSP would."""

from __future__ import annotations

import asyncio
import base64
import secrets
from typing import Any

import httpx
from aiohttp import web

from ocpi.v211 import models as v211
from ocpi.v221.models import (
    Cdr,
    CommandResult,
    Credentials,
    Envelope,
    Evse,
    Location,
    Session,
    Tariff,
    VersionDetails,
)
from tests.conftest import free_port

# Only to complete a pushed EVSE's fields for the check.
CONNECTOR = {
    "id": "1",
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "max_voltage": 400,
    "max_amperage": 32,
    "last_updated": "2026-01-01T00:00:00Z",
}
COUNTRY = "NL"
PARTY = "TNM"


def token_header(token: str, *, encoded: bool = True) -> dict[str, str]:
    """2.2.1 sends the token in base64 (`encoded`), 2.1.1 as it is."""
    value = base64.b64encode(token.encode()).decode() if encoded else token
    return {"Authorization": f"Token {value}"}


def envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2026-12-07T00:00:00Z"}
    if data is not None:
        body["data"] = data
    return body


def data_of(response: httpx.Response) -> Any:
    """The data of a CPMS answer, after checking the envelope is OCPI's."""
    return Envelope.model_validate(response.json()).data


class Emsp:
    def __init__(
        self, country: str = COUNTRY, party: str = PARTY, role: str = "EMSP", version: str = "2.2.1"
    ) -> None:
        self.country = country
        self.party = party
        self.role = role
        # The version it speaks: 2.2.1 (it lists 2.1.1 too, without serving it) or only 2.1.1.
        self.version = version
        self.legacy = version == "2.1.1"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/ocpi"
        self.token_a = secrets.token_urlsafe(16)  # what the CPMS registers with us with
        self.accepted = {self.token_a}  # tokens the CPMS may call us with
        self.cpms_token: str | None = None  # what we call the CPMS with
        self.token_b: str | None = None  # what the CPMS calls us with, when we registered
        self.calls: list[tuple[str, str, str | None]] = []  # method, path, token
        self.received_credentials: list[Credentials | v211.Credentials] = []
        self.cpms_versions_checked: list[int] = []  # HTTP status of our look at the CPMS
        self.evse_updates: list[tuple[str, dict[str, Any]]] = []  # pushed: path, body
        self.down = False  # answer pushes with HTTP 503, as a partner in maintenance
        self.results: dict[
            str, CommandResult | v211.CommandResponse
        ] = {}  # command results, by the URL's last part
        self.result_bodies: dict[str, Any] = {}  # every result (commands, profiles), as sent
        self.known_locations: set[str] = set()  # Locations the CPMS PUT here
        self.locations: dict[str, Location | v211.Location] = {}  # the last of each, by id
        self.unregistered = False
        self.cdrs: list[Cdr | v211.Cdr] = []  # CDRs the CPMS POSTed here, in the order they came
        self.refuse_cdrs = False  # answer CDRs with OCPI 2001, as for one we cannot take
        self.sessions: dict[
            str, Session | v211.Session
        ] = {}  # our copy of the CPMS's sessions, by id
        # Real-time authorization: our tokens (as we sent them), what we answer for each
        # uid, how long we take, and what we were asked (uid, type, body).
        self.tokens: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, str] = {}
        self.answer_delay_s = 0.0
        self.asked: list[tuple[str, str | None, Any]] = []
        # Our token list (the tokens module as sender), in our version's form, served a few
        # at a time, and the query of each request for it.
        self.listed: list[dict[str, Any]] = []
        self.list_page = 2
        self.list_requests: list[dict[str, str]] = []
        self.list_loops = False  # a list whose next page is its first again
        self.tariffs: dict[str, Tariff | v211.Tariff] = {}  # our copy of the CPMS's tariffs, by id
        self.tariff_calls: list[tuple[str, str]] = []  # method, tariff id
        self.session_calls: list[tuple[str, str, dict[str, Any]]] = []  # method, id, body
        self._runner: web.AppRunner | None = None

    # --- the server side: what the CPMS calls ---

    def credentials(self, token: str) -> dict[str, Any]:
        if self.legacy:
            return {
                "token": token,
                "url": f"{self.base}/versions",
                "business_details": {"name": "Test Mobility"},
                "party_id": self.party,
                "country_code": self.country,
            }
        return {
            "token": token,
            "url": f"{self.base}/versions",
            "roles": [
                {
                    "role": self.role,
                    "business_details": {"name": "Test Mobility"},
                    "party_id": self.party,
                    "country_code": self.country,
                }
            ],
        }

    def _token(self, request: web.Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Token":
            return None
        if self.legacy:  # a strict 2.1.1 peer reads the token as it is
            return value
        return base64.b64decode(value).decode()

    def _authorized(self, request: web.Request) -> str | None:
        token = self._token(request)
        self.calls.append((request.method, request.path, token))
        return token if token in self.accepted else None

    async def _versions(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        listed = ["2.1.1"] if self.legacy else ["2.1.1", "2.2.1"]
        return web.json_response(
            envelope([{"version": each, "url": f"{self.base}/{each}"} for each in listed])
        )

    async def _details(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        base = f"{self.base}/{self.version}"
        if self.legacy:  # 2.1.1 endpoints have no role
            modules = ("credentials", "locations", "tokens", "cdrs", "sessions", "tariffs")
            endpoints_211 = [{"identifier": each, "url": f"{base}/{each}"} for each in modules]
            return web.json_response(envelope({"version": "2.1.1", "endpoints": endpoints_211}))
        endpoints = [
            {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
            {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
            {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
            {"identifier": "commands", "role": "SENDER", "url": f"{base}/commands"},
            {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/cdrs"},
            {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"},
            {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/tariffs"},
        ]
        return web.json_response(envelope({"version": "2.2.1", "endpoints": endpoints}))

    async def _credentials(self, request: web.Request) -> web.Response:
        token = self._authorized(request)
        if token is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if request.method == "DELETE":  # the CPMS ends the connection
            self.unregistered = True
            self.accepted = set()
            return web.json_response(envelope())
        body = await request.json()
        theirs = (v211.Credentials if self.legacy else Credentials).model_validate(body)
        self.received_credentials.append(theirs)
        # Before answering, look at the CPMS's versions with the token it gave us.
        async with httpx.AsyncClient() as client:
            header = token_header(theirs.token, encoded=not self.legacy)
            looked = await client.get(theirs.url, headers=header)
        self.cpms_versions_checked.append(looked.status_code)
        self.cpms_token = theirs.token
        ours = secrets.token_urlsafe(24)
        self.accepted = {ours}  # token A, and any token before, stop working
        return web.json_response(envelope(self.credentials(ours)))

    async def _evse_update(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        # Functional modules carry the hub routing headers: from the CPO to us.
        routing = [
            request.headers.get(f"OCPI-{side}-{field}")
            for side in ("from", "to")
            for field in ("country-code", "party-id")
        ]
        assert routing == ([None] * 4 if self.legacy else ["DE", "ACM", self.country, self.party])
        if request.match_info["location"] not in self.known_locations:
            # As a receiver may: an EVSE of a Location it was never sent is not patched.
            return web.json_response(envelope(status_code=2003), status=404)
        body = await request.json()
        # A PATCH carries what changed and last_updated, checked against the EVSE definition.
        if self.legacy:
            legacy_connector = {**CONNECTOR, "voltage": 400, "amperage": 32}
            v211.Evse.model_validate({"uid": "x", "connectors": [legacy_connector], **body})
        else:
            Evse.model_validate({"uid": "x", "connectors": [CONNECTOR], **body})
        assert set(body) == {"status", "last_updated"}, body
        self.evse_updates.append((request.path, body))
        return web.json_response(envelope())

    async def _location(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        shown = (v211.Location if self.legacy else Location).model_validate(await request.json())
        assert shown.id == request.match_info["location"]
        self.known_locations.add(shown.id)
        self.locations[shown.id] = shown
        for evse in shown.evses:
            path = f"{request.path}/{evse.uid}"
            self.evse_updates.append((path, {"status": evse.status.value, "put": True}))
        return web.json_response(envelope())

    async def _cdr(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        if self.refuse_cdrs:
            return web.json_response(envelope(status_code=2001), status=400)
        routing = [
            request.headers.get(f"OCPI-to-{field}") for field in ("country-code", "party-id")
        ]
        assert routing == ([None, None] if self.legacy else [self.country, self.party]), routing
        received = (v211.Cdr if self.legacy else Cdr).model_validate(await request.json())
        self.cdrs.append(received)
        location = f"{self.base}/{self.version}/cdrs/{received.id}"
        return web.json_response(envelope(), headers={"Location": location})

    async def _session(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        assert (request.match_info["country"], request.match_info["party"]) == ("DE", "ACM")
        session_id = request.match_info["session"]
        body = await request.json()
        self.session_calls.append((request.method, session_id, body))
        kind = v211.Session if self.legacy else Session
        if request.method == "PUT":
            self.sessions[session_id] = kind.model_validate(body)
            assert self.sessions[session_id].id == session_id
        else:
            if session_id not in self.sessions:
                return web.json_response(envelope(status_code=2001), status=404)
            assert "last_updated" in body, body
            merged = {**self.sessions[session_id].model_dump(mode="json"), **body}
            self.sessions[session_id] = kind.model_validate(merged)
        return web.json_response(envelope())

    async def _tariff(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        assert (request.match_info["country"], request.match_info["party"]) == ("DE", "ACM")
        tariff_id = request.match_info["tariff"]
        self.tariff_calls.append((request.method, tariff_id))
        if request.method == "DELETE":
            self.tariffs.pop(tariff_id, None)
        else:
            kind = v211.Tariff if self.legacy else Tariff
            self.tariffs[tariff_id] = kind.model_validate(await request.json())
            assert self.tariffs[tariff_id].id == tariff_id
        return web.json_response(envelope())

    async def _authorize(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        uid = request.match_info["uid"]
        body = await request.json() if request.can_read_body else None
        self.asked.append((uid, request.query.get("type"), body))
        await asyncio.sleep(self.answer_delay_s)
        if uid not in self.tokens:
            return web.json_response(envelope(status_code=2004), status=404)
        info: dict[str, Any] = {"allowed": self.answers.get(uid, "ALLOWED")}
        if not self.legacy:  # 2.1.1's AuthorizationInfo has neither
            info |= {
                "token": self.tokens[uid],
                "authorization_reference": f"AUTH-{len(self.asked)}",
            }
        return web.json_response(envelope(info))

    async def _token_list(self, request: web.Request) -> web.Response:
        """A page of our tokens, changed in [date_from, date_to), with OCPI's paging."""
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        if self.down:
            return web.Response(status=503, text="maintenance")
        query = dict(request.query)
        self.list_requests.append(query)
        date_from, date_to = query.get("date_from"), query.get("date_to")
        found = [
            each
            for each in self.listed
            if (date_from is None or each["last_updated"] >= date_from)
            and (date_to is None or each["last_updated"] < date_to)
        ]
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", self.list_page)), self.list_page)
        headers = {"X-Total-Count": str(len(found)), "X-Limit": str(limit)}
        following = 0 if self.list_loops else offset + limit
        if self.list_loops or following < len(found):
            link = request.url.update_query({"offset": str(following), "limit": str(limit)})
            headers["Link"] = f'<{link}>; rel="next"'
        return web.json_response(envelope(found[offset : offset + limit]), headers=headers)

    def issue(self, uid: str, last_updated: str, **fields: Any) -> dict[str, Any]:
        """A token of ours, as our version writes it, added to (or replaced in) our list."""
        token: dict[str, Any] = {
            "uid": uid,
            "type": "RFID",
            "issuer": "Test Mobility",
            "valid": True,
            "whitelist": "ALLOWED",
            "last_updated": last_updated,
        }
        if self.legacy:
            token["auth_id"] = f"NL-TNM-{uid}"
        else:
            token |= {
                "country_code": self.country,
                "party_id": self.party,
                "contract_id": f"NL-TNM-{uid}",
            }
        token |= fields
        self.listed = [each for each in self.listed if each["uid"] != uid] + [token]
        return token

    async def _result(self, request: web.Request) -> web.Response:
        if self._authorized(request) is None:
            return web.json_response(envelope(status_code=2000), status=401)
        body = await request.json()
        self.result_bodies[request.match_info["ref"]] = body
        if not request.match_info["ref"].startswith("profile-"):
            kind = v211.CommandResponse if self.legacy else CommandResult
            self.results[request.match_info["ref"]] = kind.model_validate(body)
        return web.json_response(envelope())

    def result_url(self, ref: str) -> str:
        return f"{self.base}/results/{ref}"

    def statuses(self, location_id: int | str, evse_uid: int | str) -> list[str]:
        """The statuses pushed for one EVSE, in the order they came."""
        path = f"/ocpi/{self.version}/locations/DE/ACM/{location_id}/{evse_uid}"
        return [body["status"] for each, body in self.evse_updates if each == path]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/ocpi/results/{ref}", self._result)
        base = f"/ocpi/{self.version}"
        app.router.add_post(f"{base}/cdrs", self._cdr)
        app.router.add_post(base + "/tokens/{uid}/authorize", self._authorize)
        app.router.add_get(base + "/tokens", self._token_list)
        tariffs = base + "/tariffs/{country}/{party}/{tariff}"
        app.router.add_put(tariffs, self._tariff)
        app.router.add_delete(tariffs, self._tariff)
        sessions = base + "/sessions/{country}/{party}/{session}"
        app.router.add_put(sessions, self._session)
        app.router.add_patch(sessions, self._session)
        app.router.add_put(base + "/locations/{country}/{party}/{location}", self._location)
        app.router.add_patch(
            base + "/locations/{country}/{party}/{location}/{evse}", self._evse_update
        )
        app.router.add_get("/ocpi/versions", self._versions)
        app.router.add_get(base, self._details)
        app.router.add_route("*", f"{base}/credentials", self._credentials)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the client side: the eMSP registering with the CPMS ---

    async def register_with(self, versions_url: str, token_a: str) -> dict[str, Any]:
        """OCPI §7 (2.2.1, or 2.1.1's) as the sender: versions, details, then our credentials
        with a new token B; the CPMS's credentials (with token C) in return."""
        header = token_header(token_a, encoded=not self.legacy)
        async with httpx.AsyncClient() as client:
            versions = data_of(await client.get(versions_url, headers=header))
            chosen = next(each for each in versions if each["version"] == self.version)
            details = (v211.VersionDetails if self.legacy else VersionDetails).model_validate(
                data_of(await client.get(chosen["url"], headers=header))
            )
            url = next(e.url for e in details.endpoints if e.identifier == "credentials")
            token_b = self.token_b = secrets.token_urlsafe(24)
            self.accepted = {token_b}
            answer = await client.post(url, json=self.credentials(token_b), headers=header)
        assert answer.status_code == 200, answer.text
        kind = v211.Credentials if self.legacy else Credentials
        theirs = kind.model_validate(data_of(answer))
        self.cpms_token = theirs.token
        return theirs.model_dump()
