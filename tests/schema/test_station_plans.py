"""Reservations and charging profiles: kept once the station accepts them, shown per station."""

from datetime import timedelta

from ocpp.charge_point import snake_to_camel_case

from app.timeparse import utcnow
from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_more_commands import MAX_PROFILE, MoreStation16

OUTCOME = "{ __typename ... on UserError { code message } }"
PLANS = """
query ($identity: String!, $inactive: Boolean!) { station(identity: $identity) {
  reservations { edges { node { id reservationId evseId idTag status station { identity } } } }
  chargingProfiles(includeInactive: $inactive) {
    id profileId evseId purpose stackLevel status schedule validTo
  }
} }
"""


async def _plans(server, key, inactive: bool = False) -> dict:
    result = await graphql(server, PLANS, {"identity": "CP-PLAN", "inactive": inactive}, key)
    return result["data"]["station"]


async def test_a_reservation_is_kept_when_accepted_and_ends_when_cancelled(
    live_server, register, api_key, connect_charger
):
    await register("CP-PLAN")
    operator = await api_key(role="operator")
    expires = (utcnow() + timedelta(hours=1)).isoformat()
    async with connect_charger("CP-PLAN", client_class=MoreStation16) as client:
        await booted(client, "ocpp1.6")
        reserved = await graphql(
            live_server,
            'mutation ($e: DateTime!) { reserveNow(identity: "CP-PLAN",'
            ' evseId: 1, idToken: "04AA", expiresAt: $e) ' + OUTCOME + " }",
            {"e": expires},
            operator,
        )
        assert reserved["data"]["reserveNow"]["__typename"] == "CommandAccepted"
        [edge] = (await _plans(live_server, operator))["reservations"]["edges"]
        reservation = edge["node"]
        assert {k: reservation[k] for k in ("reservationId", "evseId", "idTag", "status")} == {
            "reservationId": 1,  # the station's first request id
            "evseId": 1,
            "idTag": "04AA",
            "status": "ACTIVE",
        }
        assert reservation["station"] == {"identity": "CP-PLAN"}
        cancelled = await graphql(
            live_server,
            'mutation { cancelReservation(identity: "CP-PLAN", reservationId: 1) ' + OUTCOME + " }",
            token=operator,
        )
        assert cancelled["data"]["cancelReservation"]["__typename"] == "CommandAccepted"
    active = await graphql(
        live_server,
        "{ reservations(filter: {status: ACTIVE}) { edges { node { id } } } }",
        token=operator,
    )
    assert active["data"]["reservations"]["edges"] == []
    node = await graphql(
        live_server,
        "query ($id: ID!) { node(id: $id) { ... on Reservation { status } } }",
        {"id": reservation["id"]},
        operator,
    )
    assert node["data"]["node"] == {"status": "CANCELLED"}


async def test_profiles_replace_each_other_like_on_the_station_and_clear(
    live_server, register, api_key, connect_charger
):
    await register("CP-PLAN")
    operator = await api_key(role="operator")
    set_profile = (
        'mutation ($p: JSON!) { setChargingProfile(identity: "CP-PLAN", evseId: 0,'
        " profile: $p) " + OUTCOME + " }"
    )
    lower = {**MAX_PROFILE, "stack_level": 2}
    lower["charging_schedule"] = {
        **MAX_PROFILE["charging_schedule"],
        "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
    }
    async with connect_charger("CP-PLAN", client_class=MoreStation16) as client:
        await booted(client, "ocpp1.6")
        for profile in (MAX_PROFILE, lower):  # the same id: the second replaces the first
            sent = await graphql(
                live_server, set_profile, {"p": snake_to_camel_case(profile)}, operator
            )
            assert sent["data"]["setChargingProfile"]["__typename"] == "CommandAccepted"
        [installed] = (await _plans(live_server, operator))["chargingProfiles"]
        assert installed["profileId"] == 7
        assert installed["stackLevel"] == 2
        assert installed["purpose"] == "ChargePointMaxProfile"
        assert installed["validTo"].startswith("2025-07-01T00:00:00")
        assert installed["schedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 10.0}
        ]
        cleared = await graphql(
            live_server,
            'mutation { clearChargingProfile(identity: "CP-PLAN", profileId: 7) ' + OUTCOME + " }",
            token=operator,
        )
        assert cleared["data"]["clearChargingProfile"]["__typename"] == "CommandAccepted"
    assert (await _plans(live_server, operator))["chargingProfiles"] == []
    history = (await _plans(live_server, operator, inactive=True))["chargingProfiles"]
    assert sorted(profile["status"] for profile in history) == ["CLEARED", "REPLACED"]
    viewer = await api_key(role="viewer")
    node = await graphql(
        live_server,
        "query ($id: ID!) { node(id: $id) { ... on ChargingProfile { status } } }",
        {"id": installed["id"]},
        viewer,
    )
    assert node["data"]["node"] == {"status": "CLEARED"}
