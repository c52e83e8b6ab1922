"""rotateStationPassword: a station gets a new random password over OCPP, the old one works until
the station first uses the new one, and the new one reaches no log."""

from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.exceptions import InvalidStatus

from app.auth.passwords import verify_station_password
from db.tables import ChargingStation, CommandLog, OcppMessageLog
from tests.conftest import graphql
from tests.ocpp_server.test_commands import Station16, Station201, booted

OLD_PASSWORD = "the-old-password-0123"
OUTCOME = """
    __typename
    ... on CommandAccepted { stationStatus }
    ... on RejectedByStationError { stationStatus }
    ... on UserError { code message }
"""
ROTATE = (
    "mutation ($identity: String!) { rotateStationPassword(identity: $identity) {" + OUTCOME + "} }"
)
CHANGE = (
    "mutation ($identity: String!, $key: String!, $value: String!) {"
    " changeConfiguration(identity: $identity, key: $key, value: $value) {" + OUTCOME + "} }"
)


class KeyedStation16(Station16):
    """Takes the AuthorizationKey it is sent, as a 1.6 station with security profile 1 does."""

    new_keys: list[tuple[str, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_keys = []

    @on(Action16.change_configuration)
    def change_configuration(self, key: str, value: str, **_: Any) -> Any:
        self.new_keys.append((key, value))
        return result16.ChangeConfiguration(status="Accepted")


class RefusingStation201(Station201):
    asked: list[dict]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked = []

    @on(Action201.set_variables)
    def set_variables(self, set_variable_data: list, **_: Any) -> result201.SetVariables:
        self.asked.extend(set_variable_data)
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attributeStatus": "Rejected",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in set_variable_data
            ]
        )


async def stored(identity: str) -> dict:
    row = await ChargingStation.select(
        ChargingStation.password_hash, ChargingStation.pending_password_hash
    ).where(ChargingStation.identity == identity)
    return row[0]


async def refused(connect_charger, identity: str, password: str, protocol: str = "ocpp1.6"):
    with pytest.raises(InvalidStatus) as refusal:
        async with connect_charger(identity, protocol, password=password):
            pass
    assert refusal.value.response.status_code == 403


async def test_a_rotated_password_replaces_the_old_once_the_station_uses_it(
    live_server, register, api_key, connect_charger
):
    await register("CP-ROTATE", password=OLD_PASSWORD)
    admin = await api_key(role="admin")
    async with connect_charger(
        "CP-ROTATE", password=OLD_PASSWORD, client_class=KeyedStation16
    ) as station:
        await booted(station, "ocpp1.6")
        result = await graphql(live_server, ROTATE, {"identity": "CP-ROTATE"}, admin)
        assert result["data"]["rotateStationPassword"] == {
            "__typename": "CommandAccepted",
            "stationStatus": "Accepted",
        }
    [(key, new_password)] = station.new_keys
    assert key == "AuthorizationKey"
    assert len(new_password) == 40 and int(new_password, 16) >= 0  # 20 bytes as hex

    # Until the station uses the new password, the old one works too.
    async with connect_charger("CP-ROTATE", password=OLD_PASSWORD):
        pass
    async with connect_charger("CP-ROTATE", password=new_password) as again:
        await booted(again, "ocpp1.6")
    await refused(connect_charger, "CP-ROTATE", OLD_PASSWORD)
    row = await stored("CP-ROTATE")
    assert row["pending_password_hash"] is None
    assert (await verify_station_password(new_password, row["password_hash"]))[0]

    # The new password is in no log: not the command log, not the OCPP message log.
    [logged] = await CommandLog.select(CommandLog.action, CommandLog.request)
    assert logged["action"] == "set_station_password"
    assert new_password not in str(logged["request"]) and "(secret)" in str(logged["request"])
    await live_server.app.state.ocpp.message_log.flush()
    frames = await OcppMessageLog.select(OcppMessageLog.frame).where(
        OcppMessageLog.action == "ChangeConfiguration"
    )
    assert frames and all(new_password not in row["frame"] for row in frames)


async def test_a_station_that_refuses_keeps_only_its_old_password(
    live_server, register, api_key, connect_charger
):
    await register("CP-KEEPS", password=OLD_PASSWORD)
    admin = await api_key(role="admin")
    async with connect_charger(
        "CP-KEEPS", "ocpp2.0.1", password=OLD_PASSWORD, client_class=RefusingStation201
    ) as station:
        await booted(station, "ocpp2.0.1")
        result = await graphql(live_server, ROTATE, {"identity": "CP-KEEPS"}, admin)
    answer = result["data"]["rotateStationPassword"]
    assert answer["__typename"] == "RejectedByStationError"
    assert answer["stationStatus"] == "Rejected"
    [asked] = station.asked
    assert asked["component"] == {"name": "SecurityCtrlr"}
    assert asked["variable"] == {"name": "BasicAuthPassword"}
    await refused(connect_charger, "CP-KEEPS", asked["attribute_value"], "ocpp2.0.1")
    assert (await stored("CP-KEEPS"))["pending_password_hash"] is None
    async with connect_charger("CP-KEEPS", "ocpp2.0.1", password=OLD_PASSWORD):
        pass


async def test_only_admins_rotate_and_only_stations_with_a_password(live_server, register, api_key):
    await register("CP-OPEN", profile=0)
    await register("CP-LOCKED", password=OLD_PASSWORD)
    operator = await api_key(role="operator")
    admin = await api_key(role="admin")
    by_operator = await graphql(live_server, ROTATE, {"identity": "CP-LOCKED"}, operator)
    assert by_operator["data"]["rotateStationPassword"]["__typename"] == "NotPermittedError"
    no_password = await graphql(live_server, ROTATE, {"identity": "CP-OPEN"}, admin)
    assert no_password["data"]["rotateStationPassword"]["__typename"] == "InvalidInputError"
    offline = await graphql(live_server, ROTATE, {"identity": "CP-LOCKED"}, admin)
    assert offline["data"]["rotateStationPassword"]["__typename"] == "StationOfflineError"
    assert (await stored("CP-LOCKED"))["pending_password_hash"] is None


@pytest.mark.parametrize("key", ["AuthorizationKey", "SecurityCtrlr.BasicAuthPassword"])
async def test_the_password_cannot_be_set_as_a_plain_configuration_key(
    live_server, register, api_key, key
):
    await register("CP-PLAIN", password=OLD_PASSWORD)
    admin = await api_key(role="admin")
    result = await graphql(
        live_server, CHANGE, {"identity": "CP-PLAIN", "key": key, "value": "0" * 40}, admin
    )
    answer = result["data"]["changeConfiguration"]
    assert answer["__typename"] == "InvalidInputError"
    assert "rotateStationPassword" in answer["message"]
    assert await CommandLog.count() == 0
