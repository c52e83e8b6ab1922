"""The tokens module as a receiver: an eMSP PUTs and PATCHes its tokens, and a real station's
Authorize follows them."""

from __future__ import annotations

import httpx
from ocpp.v16 import call as call16

from db.tables import IdToken
from ocpi.v221.models import Envelope, Token
from tests.ocpi.emsp import data_of, token_header
from tests.ocpp_server.test_commands import booted

UID = "04A1B2C3D4E5F6"


def a_token(**changes) -> dict:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "uid": UID,
        "type": "RFID",
        "contract_id": "NL-TNM-C12345678-X",
        "visual_number": "TNM 1234",
        "issuer": "Test Mobility",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-12-01T10:00:00Z",
        **changes,
    }


async def authorize(station, uid: str = UID) -> str:
    answer = await station.call(call16.Authorize(id_tag=uid))
    return answer.id_tag_info["status"]


async def test_an_emsp_token_authorizes_at_our_stations_as_it_says(
    live_server, connected, register, connect_charger
):
    url = f"{connected.base}/tokens/NL/TNM/{UID}"
    headers = token_header(connected.token)
    await register("CP-TOK")
    async with connect_charger("CP-TOK") as station, httpx.AsyncClient() as client:
        await booted(station, "ocpp1.6")
        assert await authorize(station) == "Invalid"  # not known yet

        put = await client.put(url, json=a_token(), headers=headers)
        assert put.status_code == 200, put.text
        assert Envelope.model_validate(put.json()).status_code == 1000
        read = await client.get(url, params={"type": "RFID"}, headers=headers)
        assert Token.model_validate(data_of(read)).contract_id == "NL-TNM-C12345678-X"
        assert await authorize(station) == "Accepted"

        # The eMSP blocks it: from then on it is refused here.
        patch = {"valid": False, "last_updated": "2026-12-02T10:00:00Z"}
        patched = await client.patch(url, json=patch, headers=headers)
        assert Envelope.model_validate(patched.json()).status_code == 1000
        assert Token.model_validate(data_of(await client.get(url, headers=headers))).valid is False
        assert await authorize(station) == "Invalid"

        # Valid again, but the eMSP wants to be asked each time: not served yet, so refused.
        await client.put(url, json=a_token(whitelist="NEVER"), headers=headers)
        assert await authorize(station) == "Invalid"
        await client.put(url, json=a_token(whitelist="ALWAYS"), headers=headers)
        assert await authorize(station) == "Accepted"
    row = await IdToken.select(IdToken.partner, IdToken.type, IdToken.contract_id).first()
    assert row is not None and row["partner"] is not None and row["type"] == "ISO14443"


async def test_bad_token_requests_get_the_ocpi_status_and_change_nothing(
    live_server, cpo, connected
):
    base = f"{connected.base}/tokens"
    headers = token_header(connected.token)
    async with httpx.AsyncClient() as client:

        async def status(method: str, path: str, expected_http: int, **kwargs) -> int:
            answer = await client.request(method, f"{base}/{path}", headers=headers, **kwargs)
            assert answer.status_code == expected_http, answer.text
            return Envelope.model_validate(answer.json()).status_code

        assert await status("GET", f"NL/TNM/{UID}", 404) == 2004
        assert await status("PATCH", f"NL/TNM/{UID}", 404, json={"valid": False}) == 2004
        assert await status("PUT", "NL/TNM/OTHER", 200, json=a_token()) == 2001  # uid differs
        assert await status("PUT", f"NL/TNM/{UID}", 200, json=a_token(valid="yes")) == 2001
        assert await status("PUT", f"NL/TNM/{UID}", 200, json=a_token(type="APP_USER")) == 2001
        assert await status("PUT", f"DE/XXX/{UID}", 404, json=a_token()) == 2000  # not its party
        assert await status("GET", f"NL/TNM/{UID}?type=CARD", 400) == 2001
        assert await status("PUT", f"NL/TNM/{UID}", 400, content=b"[not json") == 2001
        assert await IdToken.count() == 0

        assert await status("PUT", f"NL/TNM/{UID}", 200, json=a_token()) == 1000
        no_time = await status("PATCH", f"NL/TNM/{UID}", 200, json={"valid": False})
        assert no_time == 2001  # a PATCH carries last_updated
        assert await IdToken.count().where(IdToken.status == "Accepted") == 1

        # A uid that is one of the operator's own cards stays the operator's.
        await IdToken.insert(IdToken(organization=cpo, uid="OWNCARD", type="ISO14443"))
        taken = a_token(uid="OWNCARD")
        assert await status("PUT", "NL/TNM/OWNCARD", 200, json=taken) == 2001
        own = await IdToken.select(IdToken.partner).where(IdToken.uid == "OWNCARD").first()
        assert own == {"partner": None}
