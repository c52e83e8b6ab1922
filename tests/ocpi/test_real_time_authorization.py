"""Real-time authorization: a partner's token whose whitelist says so is asked about at the
partner when a station presents it, and the answer decides (and holds for the session that
follows); a partner that cannot be asked leaves it to the whitelist."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from ocpp.v16 import call as call16

from tests.ocpi.emsp import token_header
from tests.ocpi.test_cdrs import priced_site_for_partner
from tests.ocpi.test_locations import available
from tests.ocpi.test_tokens import UID, a_token
from tests.ocpp_server.test_healing_offline import eventually


async def status(station, uid: str) -> str:
    answer = await station.call(call16.Authorize(id_tag=uid))
    return answer.id_tag_info["status"]


async def test_the_partner_decides_about_its_tokens_that_ask_for_it(
    live_server, cpo, connected, register, connect_charger
):
    emsp = connected.emsp
    site_id = await priced_site_for_partner(cpo, connected, register, "CP-RTA")
    # The partner's tokens: each asks to be asked (NEVER), or to be asked when possible.
    tokens = {
        UID: a_token(whitelist="NEVER"),
        "RTA-BLOCKED": a_token(uid="RTA-BLOCKED", whitelist="NEVER"),
        "RTA-UNKNOWN": a_token(uid="RTA-UNKNOWN", whitelist="NEVER"),
        "RTA-OFFLINE": a_token(uid="RTA-OFFLINE", whitelist="ALLOWED_OFFLINE"),
        "RTA-SLOW": a_token(uid="RTA-SLOW", whitelist="NEVER"),
    }
    async with httpx.AsyncClient() as client:
        for uid, token in tokens.items():
            put = await client.put(
                f"{connected.base}/tokens/NL/TNM/{uid}",
                json=token,
                headers=token_header(connected.token),
            )
            assert put.status_code == 200, put.text
    emsp.tokens = {uid: token for uid, token in tokens.items() if uid != "RTA-UNKNOWN"}
    emsp.answers["RTA-BLOCKED"] = "BLOCKED"

    async with connect_charger("CP-RTA") as station:
        await available(station)
        assert await status(station, UID) == "Accepted"
        assert emsp.asked == [(UID, "RFID", {"location_id": str(site_id), "evse_uids": []})]
        # Its answer holds for the session that follows: starting it asks nothing more.
        started = await station.call(
            call16.StartTransaction(
                connector_id=1,
                id_tag=UID,
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat(),
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        assert len(emsp.asked) == 1
        await station.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id,
                meter_stop=2000,
                timestamp=datetime.now(UTC).isoformat(),
            )
        )

        async def cdr_sent() -> bool:
            return bool(emsp.cdrs)

        assert await eventually(cdr_sent)
        [cdr] = emsp.cdrs
        assert cdr.auth_method.value == "AUTH_REQUEST"
        assert cdr.authorization_reference == "AUTH-1"
        assert emsp.sessions[cdr.session_id].authorization_reference == "AUTH-1"

        # What the partner says decides.
        assert await status(station, "RTA-BLOCKED") == "Blocked"
        assert await status(station, "RTA-UNKNOWN") == "Invalid"  # it does not know it
        # A partner that cannot be asked: a NEVER token is refused, an ALLOWED_OFFLINE one
        # charges as the partner sent it.
        emsp.down = True
        assert await status(station, "RTA-OFFLINE") == "Accepted"
        assert await status(station, "RTA-SLOW") == "Invalid"
        emsp.down = False
        emsp.answer_delay_s = 2.0  # longer than the server waits (1 s in the tests)
        assert await status(station, "RTA-SLOW") == "Invalid"
        emsp.answer_delay_s = 0.0
        assert await status(station, "RTA-SLOW") == "Accepted"
        # Tokens the partner lets us use from what it sent are never asked about.
        asked = len(emsp.asked)
        emsp.tokens["ALWAYS"] = a_token(uid="ALWAYS", whitelist="ALWAYS")
        async with httpx.AsyncClient() as client:
            await client.put(
                f"{connected.base}/tokens/NL/TNM/ALWAYS",
                json=emsp.tokens["ALWAYS"],
                headers=token_header(connected.token),
            )
        assert await status(station, "ALWAYS") == "Accepted"
        assert len(emsp.asked) == asked
