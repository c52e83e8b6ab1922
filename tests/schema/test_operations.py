"""Operating stations through GraphQL: a real server, real OCPP stations, typed outcomes."""

from typing import Any

import pytest
from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from app.auth.models import Role
from app.auth.service import provision_user
from app.timeparse import utcnow
from db.tables import ChargingSession, ChargingStation, CommandLog, IdToken, Organization
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpp_server.test_commands import Station16, booted

OUTCOME = """
    __typename
    ... on CommandAccepted { stationStatus data }
    ... on RejectedByStationError { stationStatus }
    ... on UserError { code message }
"""
REMOTE_START = (
    "mutation ($identity: String!, $token: String!) {"
    " remoteStart(identity: $identity, idToken: $token, evseId: 1) {" + OUTCOME + "} }"
)
REMOTE_STOP = (
    "mutation ($identity: String!, $tx: String!) {"
    " remoteStop(identity: $identity, transactionId: $tx) {" + OUTCOME + "} }"
)
RESET = "mutation ($identity: String!) { reset(identity: $identity, hard: true) {" + OUTCOME + "} }"
PASSWORD = "driver-password"


class RefusingStation(Station16):
    @on(Action16.reset)
    def reset(self, **payload: Any) -> result16.Reset:
        return result16.Reset(status="Rejected")


@pytest.fixture
async def station(register) -> str:
    await register("CP-OPS")
    return "CP-OPS"


async def driver_token(server, unit_of_work, email: str) -> tuple[str, int]:
    user = await provision_user(unit_of_work(), TEST_ORGANIZATION, email, Role.DRIVER, PASSWORD)
    login = await graphql(
        server,
        'mutation ($e: String!, $p: String!) { login(organization: "acme", email: $e,'
        " password: $p) { ... on LoginSuccess { token } } }",
        {"e": email, "p": PASSWORD},
    )
    return login["data"]["login"]["token"], user.id


async def test_an_operator_starts_charging_and_the_command_is_logged(
    live_server, station, api_key, connect_charger
):
    key = await api_key(role="operator")
    async with connect_charger(station, client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        result = await graphql(
            live_server, REMOTE_START, {"identity": station, "token": "APPUSER"}, key
        )
        assert client.received == [
            ("RemoteStartTransaction", {"id_tag": "APPUSER", "connector_id": 1})
        ]
    assert result["data"]["remoteStart"] == {
        "__typename": "CommandAccepted",
        "stationStatus": "Accepted",
        "data": {},
    }
    log = await CommandLog.select(CommandLog.action, CommandLog.status, CommandLog.actor)
    assert log == [{"action": "remote_start", "status": "accepted", "actor": log[0]["actor"]}]
    assert log[0]["actor"].startswith("api_key:")


async def test_a_16_id_tag_over_20_characters_is_refused_not_cut(
    live_server, station, api_key, connect_charger
):
    key = await api_key(role="operator")
    async with connect_charger(station, client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        result = await graphql(
            live_server, REMOTE_START, {"identity": station, "token": "A" * 21}, key
        )
        exact = await graphql(
            live_server, REMOTE_START, {"identity": station, "token": "B" * 20}, key
        )
    assert result["data"]["remoteStart"]["__typename"] == "InvalidInputError"
    assert "at most 20 characters" in result["data"]["remoteStart"]["message"]
    assert exact["data"]["remoteStart"]["__typename"] == "CommandAccepted"
    assert client.received == [("RemoteStartTransaction", {"id_tag": "B" * 20, "connector_id": 1})]


async def test_a_refusal_by_the_station_is_its_own_result(
    live_server, station, api_key, connect_charger
):
    key = await api_key(role="operator")
    async with connect_charger(station, client_class=RefusingStation) as client:
        await booted(client, "ocpp1.6")
        result = await graphql(live_server, RESET, {"identity": station}, key)
    assert result["data"]["reset"] == {
        "__typename": "RejectedByStationError",
        "stationStatus": "Rejected",
        "code": "rejected",
        "message": f"station {station} answered Rejected",
    }


async def test_an_offline_station_fails_at_once(live_server, station, api_key):
    result = await graphql(live_server, RESET, {"identity": station}, await api_key())
    assert result["data"]["reset"]["__typename"] == "StationOfflineError"
    assert result["data"]["reset"]["code"] == "station_offline"


async def test_a_command_the_station_lacks_is_a_call_error(
    live_server, station, api_key, connect_charger
):
    key = await api_key()
    async with connect_charger(station, client_class=Station16) as client:
        await booted(client, "ocpp1.6")  # this station has no ClearCache handler
        result = await graphql(
            live_server,
            "mutation ($i: String!) { clearCache(identity: $i) {" + OUTCOME + "} }",
            {"i": station},
            key,
        )
    assert result["data"]["clearCache"]["__typename"] == "StationCallError"
    assert result["data"]["clearCache"]["code"] == "call_error"


async def test_a_viewer_may_not_operate(live_server, station, api_key):
    result = await graphql(live_server, RESET, {"identity": station}, await api_key(role="viewer"))
    assert result["data"]["reset"]["__typename"] == "NotPermittedError"


async def test_another_organizations_station_is_not_found(live_server, station, api_key):
    other = Organization(name="Other", slug="other")
    await other.save()
    result = await graphql(live_server, RESET, {"identity": station}, await api_key("other"))
    assert result["data"]["reset"]["__typename"] == "NotFoundError"


async def test_invalid_input_is_a_typed_error(live_server, station, api_key):
    result = await graphql(
        live_server,
        'mutation { getCompositeSchedule(identity: "CP-OPS", evseId: 1, durationS: 0) {'
        + OUTCOME
        + "} }",
        token=await api_key(),
    )
    assert result["data"]["getCompositeSchedule"]["__typename"] == "InvalidInputError"


async def test_a_driver_starts_and_stops_only_their_own_charging(
    live_server, station, organization, unit_of_work, connect_charger
):
    token, driver_id = await driver_token(live_server, unit_of_work, "dana@example.com")
    _, other_id = await driver_token(live_server, unit_of_work, "olaf@example.com")
    await IdToken.insert(
        IdToken(organization=organization, uid="DANA-APP", type="Central", user=driver_id),
        IdToken(organization=organization, uid="OLAF-APP", type="Central", user=other_id),
    )
    station_id = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == station)
        .first()
    )["id"]
    await ChargingSession.insert(
        ChargingSession(
            organization=organization,
            station=station_id,
            transaction_id="41",
            user=driver_id,
            started_at=utcnow(),
        ),
        ChargingSession(
            organization=organization,
            station=station_id,
            transaction_id="42",
            user=other_id,
            started_at=utcnow(),
        ),
    )
    async with connect_charger(station, client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        own_start = await graphql(
            live_server, REMOTE_START, {"identity": station, "token": "DANA-APP"}, token
        )
        other_start = await graphql(
            live_server, REMOTE_START, {"identity": station, "token": "OLAF-APP"}, token
        )
        other_stop = await graphql(
            live_server, REMOTE_STOP, {"identity": station, "tx": "42"}, token
        )
        reset = await graphql(live_server, RESET, {"identity": station}, token)
    assert own_start["data"]["remoteStart"]["__typename"] == "CommandAccepted"
    assert other_start["data"]["remoteStart"]["__typename"] == "NotPermittedError"
    assert other_stop["data"]["remoteStop"]["__typename"] == "NotPermittedError"
    assert reset["data"]["reset"]["__typename"] == "NotPermittedError"
    assert [name for name, _ in client.received] == ["RemoteStartTransaction"]


async def test_smart_charging_and_local_lists_through_the_api(
    live_server, station, api_key, connect_charger
):
    from tests.ocpp_server.test_more_commands import MAX_PROFILE, MoreStation16

    key = await api_key(role="operator")
    async with connect_charger(station, client_class=MoreStation16) as client:
        await booted(client, "ocpp1.6")
        profile = await graphql(
            live_server,
            "mutation ($i: String!, $p: JSON!) { setChargingProfile(identity: $i, evseId: 0,"
            " profile: $p) {" + OUTCOME + "} }",
            {"i": station, "p": snake_to_camel_case(MAX_PROFILE)},
            key,
        )
        local_list = await graphql(
            live_server,
            "mutation ($i: String!) { sendLocalList(identity: $i, version: 3, entries: "
            '[{idToken: "04AA", status: ACCEPTED}, {idToken: "04BB", status: BLOCKED}])'
            " {" + OUTCOME + "} }",
            {"i": station},
            key,
        )
        bad = await graphql(
            live_server,
            "mutation ($i: String!) { setChargingProfile(identity: $i, evseId: 0, profile: {}) {"
            + OUTCOME
            + "} }",
            {"i": station},
            key,
        )
    assert profile["data"]["setChargingProfile"]["__typename"] == "CommandAccepted"
    assert local_list["data"]["sendLocalList"]["__typename"] == "CommandAccepted"
    assert bad["data"]["setChargingProfile"]["__typename"] == "InvalidInputError"
    sent = dict(client.received)
    assert sent["SetChargingProfile"]["cs_charging_profiles"] == MAX_PROFILE
    assert [e["id_tag"] for e in sent["SendLocalList"]["local_authorization_list"]] == [
        "04AA",
        "04BB",
    ]


async def test_a_station_page_shows_its_commands_and_frames(
    live_server, station, api_key, connect_charger
):
    operator = await api_key(role="operator")
    async with connect_charger(station, client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        await graphql(live_server, RESET, {"identity": station}, operator)
    await live_server.app.state.ocpp.message_log.flush()
    query = """
    query ($identity: String!) { station(identity: $identity) {
      commands(first: 5) { edges { node { action status actor request response } } }
      messageLog(first: 2) { edges { node { direction messageType action } }
                             pageInfo { hasNextPage endCursor } }
    } }
    """
    page = (await graphql(live_server, query, {"identity": station}, operator))["data"]["station"]
    command = page["commands"]["edges"][0]["node"]
    assert (command["action"], command["status"]) == ("RESET", "ACCEPTED")
    assert command["actor"].startswith("api_key:")
    assert command["request"] == {"hard": True}
    assert command["response"] == {"status": "Accepted"}
    frames = [edge["node"] for edge in page["messageLog"]["edges"]]
    assert frames == [  # newest first: the station's answer to Reset, then our Reset
        {"direction": "IN", "messageType": 3, "action": None},
        {"direction": "OUT", "messageType": 2, "action": "Reset"},
    ]
    assert page["messageLog"]["pageInfo"]["hasNextPage"] is True
    older = await graphql(
        live_server,
        "query ($i: String!, $a: String) { station(identity: $i) {"
        " messageLog(first: 10, after: $a) { edges { node { action direction } } } } }",
        {"i": station, "a": page["messageLog"]["pageInfo"]["endCursor"]},
        operator,
    )
    earlier = [e["node"] for e in older["data"]["station"]["messageLog"]["edges"]]
    assert {"action": "BootNotification", "direction": "IN"} in earlier
    viewer = await api_key(role="viewer")
    hidden = await graphql(
        live_server,
        "query ($i: String!) { station(identity: $i) { messageLog { edges { cursor } } } }",
        {"i": station},
        viewer,
    )
    assert hidden["errors"][0]["extensions"]["code"] == "not_permitted"
