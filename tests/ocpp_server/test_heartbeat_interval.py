"""The heartbeat interval is a station setting: set through the API (or an accepted change of
the station's configuration), sent at once to a connected station, answered at every boot; a
station that answers the websocket pings is alive even when it sends no heartbeat. Real `ocpp`
clients against the live server."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.timeparse import utcnow
from db.tables import ChargingStation, StationConfiguration
from tests.conftest import graphql

UPDATE_STATION = """
mutation ($identity: String!, $seconds: Int!) {
  updateStation(identity: $identity, input: {heartbeatIntervalS: $seconds}) {
    __typename ... on StationSaved { station { heartbeatIntervalS } }
    ... on InvalidInputError { message } } }
"""
CHANGE_CONFIGURATION = """
mutation ($identity: String!, $key: String!, $value: String!) {
  changeConfiguration(identity: $identity, key: $key, value: $value) {
    __typename ... on InvalidInputError { message } } }
"""
STATION = """
query ($identity: String!) { station(identity: $identity) { heartbeatIntervalS } }
"""


class Station16(Client16):
    """Accepts every configuration change, and remembers it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    @on(Action16.change_configuration)
    async def change_configuration(self, key: str, value: str) -> Any:
        await self.changes.put((key, value))
        return result16.ChangeConfiguration(status="Accepted")

    async def boot(self) -> int:
        answer = await self.call(
            call16.BootNotification(charge_point_vendor="A", charge_point_model="B")
        )
        return int(answer.interval)


class Station201(Client201):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    @on(Action201.set_variables)
    async def set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        item = set_variable_data[0]
        key = f"{item['component']['name']}.{item['variable']['name']}"
        await self.changes.put((key, item["attribute_value"]))
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
            ]
        )

    async def boot(self) -> int:
        answer = await self.call(
            call201.BootNotification(
                charging_station={"model": "B", "vendorName": "A"}, reason="PowerUp"
            )
        )
        return int(answer.interval)


CLIENTS = {"ocpp1.6": Station16, "ocpp2.0.1": Station201}
KEYS = {"ocpp1.6": "HeartbeatInterval", "ocpp2.0.1": "OCPPCommCtrlr.HeartbeatInterval"}


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_new_interval_is_sent_to_the_connected_station_and_answers_its_boots(
    protocol, register, connect_charger, live_server, api_key
):
    token = await api_key()
    identity = f"CP-HB-{protocol[-3:]}"
    await register(identity)
    async with connect_charger(identity, protocol, client_class=CLIENTS[protocol]) as station:
        assert await station.boot() == 300
        saved = await graphql(
            live_server, UPDATE_STATION, {"identity": identity, "seconds": 120}, token
        )
        assert saved["data"]["updateStation"]["station"] == {"heartbeatIntervalS": 120}
        assert await asyncio.wait_for(station.changes.get(), 10) == (KEYS[protocol], "120")
        assert await station.boot() == 120
    async with connect_charger(identity, protocol, client_class=CLIENTS[protocol]) as station:
        assert await station.boot() == 120


async def test_an_accepted_configuration_change_is_the_stations_interval(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-HB-CFG")
    async with connect_charger("CP-HB-CFG", client_class=Station16) as station:
        assert await station.boot() == 300
        station_id = (
            await ChargingStation.select(ChargingStation.id)
            .where(ChargingStation.identity == "CP-HB-CFG")
            .first()
        )["id"]
        await StationConfiguration.insert(
            StationConfiguration(station=station_id, variable="HeartbeatInterval", value="300")
        )
        changed = await graphql(
            live_server,
            CHANGE_CONFIGURATION,
            {"identity": "CP-HB-CFG", "key": "HeartbeatInterval", "value": "3600"},
            token,
        )
        assert changed["data"]["changeConfiguration"]["__typename"] == "CommandAccepted"
        assert await station.boot() == 3600
    read = await graphql(live_server, STATION, {"identity": "CP-HB-CFG"}, token)
    assert read["data"]["station"] == {"heartbeatIntervalS": 3600}
    stored = await StationConfiguration.select(StationConfiguration.value).where(
        StationConfiguration.variable == "HeartbeatInterval"
    )
    assert stored == [{"value": "3600"}]


async def test_an_interval_out_of_bounds_is_refused_and_nothing_is_sent(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-HB-BAD")
    async with connect_charger("CP-HB-BAD", client_class=Station16) as station:
        await station.boot()
        for seconds in (5, 86_401):
            refused = await graphql(
                live_server, UPDATE_STATION, {"identity": "CP-HB-BAD", "seconds": seconds}, token
            )
            assert refused["data"]["updateStation"]["__typename"] == "InvalidInputError"
            assert "heartbeatIntervalS" in refused["data"]["updateStation"]["message"]
        for value in ("5", "soon"):
            refused = await graphql(
                live_server,
                CHANGE_CONFIGURATION,
                {"identity": "CP-HB-BAD", "key": "HeartbeatInterval", "value": value},
                token,
            )
            assert refused["data"]["changeConfiguration"]["__typename"] == "InvalidInputError"
        assert station.changes.empty()
        assert await station.boot() == 300


UPDATE_ORGANIZATION = """
mutation { updateOrganization(input: {heartbeatIntervalS: 600}) {
  __typename ... on OrganizationSaved { organization { heartbeatIntervalS } } } }
"""
CREATE_STATION = """
mutation { createStation(identity: "CP-HB-NEW") {
  __typename ... on StationSaved { station { heartbeatIntervalS } } } }
"""


async def test_new_stations_get_their_organizations_interval(live_server, api_key):
    token = await api_key()
    saved = await graphql(live_server, UPDATE_ORGANIZATION, None, token)
    assert saved["data"]["updateOrganization"]["organization"] == {"heartbeatIntervalS": 600}
    created = await graphql(live_server, CREATE_STATION, None, token)
    assert created["data"]["createStation"]["station"] == {"heartbeatIntervalS": 600}


async def test_a_station_that_answers_pings_is_not_taken_for_silent(
    register, connect_charger, live_server
):
    """It sends nothing after its boot; an hour later (on this node's clock) its connection is
    still open, so it has answered every ping the server sent: it is alive."""
    presence = live_server.app.state.ocpp.presence
    await register("CP-HB-PONG")
    async with connect_charger("CP-HB-PONG", client_class=Station16) as station:
        await station.boot()
        await presence.flush()
        long_ago = utcnow() - timedelta(minutes=15)
        await ChargingStation.update({ChargingStation.last_seen_at: long_ago}).where(
            ChargingStation.identity == "CP-HB-PONG"
        )
        clock = presence.clock
        presence.clock = lambda: clock() + 3600
        try:
            assert "CP-HB-PONG" not in await presence.sweep()
        finally:
            presence.clock = clock
        row = (
            await ChargingStation.select(ChargingStation.connected, ChargingStation.last_seen_at)
            .where(ChargingStation.identity == "CP-HB-PONG")
            .first()
        )
        assert row["connected"] and row["last_seen_at"] > long_ago
        assert await station.boot() == 300  # still connected and answered
