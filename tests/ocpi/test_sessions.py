"""The sessions module as a sender: a session of a partner's token is PUT to the partner when
it starts, its kWh and cost PATCHed while it runs, and PUT whole when it is over and priced;
partners pull sessions page by page and send charging preferences."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from ocpp.v16 import call as call16

from db.tables import ChargingSession
from ocpi.v221.models import Envelope
from ocpi.v221.models import Session as OcpiSession
from tests.ocpi.emsp import data_of, token_header
from tests.ocpi.test_cdrs import priced_site_for_partner
from tests.ocpi.test_locations import available
from tests.ocpi.test_tokens import UID
from tests.ocpp_server.test_healing_offline import eventually


def now() -> str:
    return datetime.now(UTC).isoformat()


def energy(wh: int) -> dict:
    return {
        "timestamp": now(),
        "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}],
    }


async def test_a_partner_follows_its_drivers_sessions_from_start_to_end(
    live_server, cpo, connected, register, connect_charger
):
    emsp = connected.emsp
    site_id = await priced_site_for_partner(cpo, connected, register, "CP-SES")
    async with connect_charger("CP-SES") as station:
        await available(station)
        started = await station.call(
            call16.StartTransaction(connector_id=1, id_tag=UID, meter_start=0, timestamp=now())
        )
        [row] = await ChargingSession.select(ChargingSession.id, ChargingSession.evse)
        session_id = str(row["id"])

        async def told(check) -> bool:
            copy = emsp.sessions.get(session_id)
            return copy is not None and check(copy)

        # Its start: the whole session, ACTIVE.
        assert await eventually(lambda: told(lambda copy: copy.status.value == "ACTIVE"))
        copy = emsp.sessions[session_id]
        assert (copy.country_code, copy.party_id) == ("DE", "ACM")
        assert (copy.location_id, copy.evse_uid, copy.connector_id) == (
            str(site_id),
            str(row["evse"]),
            "1",
        )
        assert (copy.cdr_token.uid, copy.cdr_token.party_id) == (UID, "TNM")
        assert copy.auth_method.value == "WHITELIST" and copy.currency == "EUR"
        assert copy.kwh == 0 and copy.end_date_time is None
        assert emsp.session_calls[0][0] == "PUT"

        # While it runs: kWh and the cost so far, PATCHed.
        await station.call(
            call16.MeterValues(
                connector_id=1, transaction_id=started.transaction_id, meter_value=[energy(5000)]
            )
        )
        assert await eventually(lambda: told(lambda copy: copy.kwh == 5.0))
        method, _, body = emsp.session_calls[-1]
        assert method == "PATCH" and set(body) >= {"kwh", "last_updated"}
        # 5 kWh x 0.39 = 1.95 excl. VAT, 2.32 incl. 19%.
        assert emsp.sessions[session_id].total_cost.model_dump() == {
            "excl_vat": 1.95,
            "incl_vat": 2.32,
        }

        # Its end: the whole session again, COMPLETED, with the cost its CDR says.
        await station.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id, meter_stop=8000, timestamp=now()
            )
        )
        assert await eventually(
            lambda: told(lambda copy: copy.status.value == "COMPLETED" and copy.total_cost)
        )
        final = emsp.sessions[session_id]
        assert final.kwh == 8.0 and final.end_date_time is not None
        # 8 kWh x 0.39 = 3.12 excl. VAT; 3.7128 -> 3.71 incl.
        assert final.total_cost.model_dump() == {"excl_vat": 3.12, "incl_vat": 3.71}
        assert emsp.session_calls[-1][0] == "PUT"

        async def settled() -> bool:
            state = await ChargingSession.select(ChargingSession.partner_pending).first()
            return state is not None and not state["partner_pending"]

        assert await eventually(settled)
        calls = len(emsp.session_calls)

    headers = token_header(connected.token)
    async with httpx.AsyncClient() as client:
        pulled = await client.get(f"{connected.base}/sessions", headers=headers)
        assert pulled.headers["X-Total-Count"] == "1"
        [shown] = [OcpiSession.model_validate(each) for each in data_of(pulled)]
        assert shown == final
        later = await client.get(
            f"{connected.base}/sessions",
            params={"date_from": "2999-01-01T00:00:00Z"},
            headers=headers,
        )
        assert data_of(later) == []

        url = f"{connected.base}/sessions/{session_id}/charging_preferences"
        preferences = {"profile_type": "FAST", "departure_time": "2030-01-01T08:00:00Z"}
        answer = await client.put(url, json=preferences, headers=headers)
        assert answer.status_code == 200, answer.text
        assert data_of(answer) == "NOT_POSSIBLE"
        wrong = await client.put(url, json={"profile_type": "SLOW"}, headers=headers)
        assert Envelope.model_validate(wrong.json()).status_code == 2001
        elsewhere = url.replace(f"/{session_id}/", "/999999/")
        unknown = await client.put(elsewhere, json=preferences, headers=headers)
        assert unknown.status_code == 404
    assert len(emsp.session_calls) == calls  # nothing more was sent once it was over
