"""The chargingprofiles module as a receiver: an eMSP limits its driver's running session,
reads the limits in force and removes its limit; the answer comes at once, the station is
asked, and its outcome is POSTed to the eMSP afterwards."""

from __future__ import annotations

import httpx
from ocpp.v16 import call as call16

from db.tables import ChargingProfile, ChargingSession, ChargingStation
from ocpi.v221.models import (
    ActiveChargingProfileResult,
    ChargingProfileResponse,
    ChargingProfileResult,
    Envelope,
)
from tests.ocpi.emsp import data_of, token_header
from tests.ocpi.test_cdrs import priced_site_for_partner
from tests.ocpi.test_locations import available
from tests.ocpi.test_sessions import now
from tests.ocpi.test_tokens import UID
from tests.ocpp_server.test_healing_offline import eventually
from tests.ocpp_server.test_more_commands import MoreStation16

LIMIT = {
    "charging_rate_unit": "A",
    "charging_profile_period": [
        {"start_period": 0, "limit": 16.0},
        {"start_period": 1800, "limit": 10.0},
    ],
}


async def test_an_emsp_limits_reads_and_clears_its_drivers_session(
    live_server, cpo, connected, register, connect_charger
):
    emsp = connected.emsp
    await priced_site_for_partner(cpo, connected, register, "CP-PROF")
    async with connect_charger("CP-PROF", client_class=MoreStation16) as station:
        await available(station)
        started = await station.call(
            call16.StartTransaction(connector_id=1, id_tag=UID, meter_start=0, timestamp=now())
        )
        [row] = await ChargingSession.select(ChargingSession.id)
        session_id = row["id"]
        url = f"{connected.base}/chargingprofiles/{session_id}"
        headers = token_header(connected.token)

        async def outcome(ref: str) -> bool:
            return ref in emsp.result_bodies

        async with httpx.AsyncClient(headers=headers) as client:
            # Set: accepted at once, installed as the transaction's profile, reported.
            body = {"charging_profile": LIMIT, "response_url": emsp.result_url("profile-set")}
            answer = await client.put(url, json=body)
            response = ChargingProfileResponse.model_validate(data_of(answer))
            assert response.result.value == "ACCEPTED" and response.timeout > 0
            assert await eventually(lambda: outcome("profile-set"))
            result = ChargingProfileResult.model_validate(emsp.result_bodies["profile-set"])
            assert result.result.value == "ACCEPTED"
            action, payload = station.received[-1]
            assert action == "SetChargingProfile" and payload["connector_id"] == 1
            profile = payload["cs_charging_profiles"]
            assert profile["charging_profile_id"] == session_id
            assert profile["transaction_id"] == started.transaction_id
            assert (profile["charging_profile_purpose"], profile["charging_profile_kind"]) == (
                "TxProfile",
                "Relative",
            )
            assert profile["charging_schedule"] == {
                "charging_rate_unit": "A",
                "charging_schedule_period": [
                    {"start_period": 0, "limit": 16.0},
                    {"start_period": 1800, "limit": 10.0},
                ],
            }

            async def recorded() -> bool:
                rows = await ChargingProfile.select(
                    ChargingProfile.profile_id, ChargingProfile.source
                ).where(ChargingProfile.status == "active")
                return rows == [{"profile_id": session_id, "source": "ocpi"}]

            assert await eventually(recorded)

            # Read: the limits in force at the session's EVSE, as the station says.
            params = {"duration": "900", "response_url": emsp.result_url("profile-read")}
            answer = await client.get(url, params=params)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: outcome("profile-read"))
            read = ActiveChargingProfileResult.model_validate(emsp.result_bodies["profile-read"])
            assert read.result.value == "ACCEPTED" and read.profile is not None
            assert read.profile.start_date_time == "2025-06-01T00:00:00.000Z"
            active = read.profile.charging_profile
            assert active.charging_rate_unit.value == "W" and active.duration == 900
            assert [(p.start_period, p.limit) for p in active.charging_profile_period] == [
                (0, 11000.0)
            ]
            assert station.received[-1] == (
                "GetCompositeSchedule",
                {"connector_id": 1, "duration": 900},
            )

            # Clear: only the partner's own profile.
            params = {"response_url": emsp.result_url("profile-clear")}
            answer = await client.delete(url, params=params)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: outcome("profile-clear"))
            assert emsp.result_bodies["profile-clear"] == {"result": "ACCEPTED"}
            assert station.received[-1] == ("ClearChargingProfile", {"id": session_id})

            # What cannot be done is answered at once, and nothing reaches the station.
            sent = len(station.received)
            elsewhere = f"{connected.base}/chargingprofiles/999999"
            answer = await client.put(elsewhere, json=body)
            assert data_of(answer)["result"] == "UNKNOWN_SESSION"
            answer = await client.delete(elsewhere, params=params)
            assert data_of(answer)["result"] == "UNKNOWN_SESSION"
            bad_requests = [
                client.put(
                    url, json=body | {"charging_profile": LIMIT | {"charging_rate_unit": "kW"}}
                ),
                client.put(
                    url,
                    json=body
                    | {
                        "charging_profile": LIMIT
                        | {"charging_profile_period": [{"start_period": 60, "limit": 8}]}
                    },
                ),
                client.put(url, json=body | {"response_url": "ftp://emsp.example/result"}),
                client.put(url, content=b"{not json"),
                client.get(url, params={"response_url": emsp.result_url("profile-x")}),
                client.get(url, params={"duration": "-5", "response_url": emsp.result_url("x")}),
                client.delete(url),
            ]
            for request in bad_requests:
                answer = await request
                assert Envelope.model_validate(answer.json()).status_code == 2001, answer.text
            assert len(station.received) == sent
            assert not [ref for ref in emsp.result_bodies if ref in ("profile-x", "x")]

    # The station is offline: it cannot be asked, which the answer says at once.
    async def offline() -> bool:
        row = await ChargingStation.select(ChargingStation.connected).first()
        return row is not None and not row["connected"]

    assert await eventually(offline)
    async with httpx.AsyncClient(headers=headers) as client:
        answer = await client.put(url, json=body)
        assert data_of(answer)["result"] == "REJECTED"
