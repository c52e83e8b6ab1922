"""Whether a station may be sent commands is decided per connection: after its boot on that
connection was accepted, or (accepted before, reconnecting without booting) once it has shown
it runs. A Pending station that is approved is asked to boot again at once. Real `ocpp`
clients against the live server."""

import asyncio
from typing import Any

import pytest
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from app.commands import models
from app.commands.errors import StationNotReady
from app.commands.service import send_command
from db.tables import ChargingStation
from tests.conftest import graphql


class Station16(Client16):
    """Resets on request, and boots again when asked to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boots: asyncio.Queue[str] = asyncio.Queue()

    @on(Action16.reset)
    def reset(self, **_: Any) -> result16.Reset:
        return result16.Reset(status="Accepted")

    @on(Action16.trigger_message)
    def trigger(self, **_: Any) -> result16.TriggerMessage:
        return result16.TriggerMessage(status="Accepted")

    @after(Action16.trigger_message)
    async def boot_again(self, requested_message: str, **_: Any) -> None:
        if requested_message == "BootNotification":
            await self.boots.put(await self.boot())

    async def boot(self) -> str:
        answer = await self.call(
            call16.BootNotification(charge_point_vendor="A", charge_point_model="B")
        )
        return str(answer.status)


@pytest.fixture
def gateway(live_server):
    return live_server.app.state.gateway


async def test_a_reconnected_station_gets_commands_once_it_shows_it_runs(
    register, connect_charger, gateway, unit_of_work, live_server
):
    await register("CP-READY")
    async with connect_charger("CP-READY", client_class=Station16) as station:
        assert await station.boot() == "Accepted"
        assert (await send_command(gateway, unit_of_work, "CP-READY", models.Reset())).accepted
    # It comes back without booting (a 1.6 station after a network drop): until it says
    # something, it may be booting, and a command could upset its firmware.
    async with connect_charger("CP-READY", client_class=Station16) as station:
        with pytest.raises(StationNotReady):
            await send_command(gateway, unit_of_work, "CP-READY", models.Reset())
        await station.call(call16.Heartbeat())
        assert (await send_command(gateway, unit_of_work, "CP-READY", models.Reset())).accepted
    # Or it stays quiet: one that sends no boot in its first seconds is running.
    async with connect_charger("CP-READY", client_class=Station16):
        live = live_server.app.state.ocpp.live("CP-READY")
        live.link.connected_at -= 60
        assert (await send_command(gateway, unit_of_work, "CP-READY", models.Reset())).accepted


async def test_a_station_whose_boot_this_connection_is_pending_gets_no_commands(
    register, connect_charger, gateway, unit_of_work, live_server
):
    await register("CP-REBOOT")
    async with connect_charger("CP-REBOOT", client_class=Station16) as station:
        assert await station.boot() == "Accepted"
    await ChargingStation.update({ChargingStation.registration_status: "Pending"}).where(
        ChargingStation.identity == "CP-REBOOT"
    )
    async with connect_charger("CP-REBOOT", client_class=Station16) as station:
        assert await station.boot() == "Pending"
        live_server.app.state.ocpp.live("CP-REBOOT").link.connected_at -= 60
        with pytest.raises(StationNotReady):
            await send_command(gateway, unit_of_work, "CP-REBOOT", models.Reset())


APPROVE = """
mutation { approveStation(identity: "CP-APPROVE") {
  __typename ... on StationSaved { station { registrationStatus } } } }
"""


async def test_an_approved_station_is_asked_to_boot_and_is_accepted_at_once(
    register, connect_charger, gateway, unit_of_work, live_server, api_key
):
    token = await api_key(role="operator")
    await register("CP-APPROVE")
    await ChargingStation.update({ChargingStation.registration_status: "Pending"}).where(
        ChargingStation.identity == "CP-APPROVE"
    )
    async with connect_charger("CP-APPROVE", client_class=Station16) as station:
        assert await station.boot() == "Pending"
        with pytest.raises(StationNotReady):
            await send_command(gateway, unit_of_work, "CP-APPROVE", models.Reset())
        approved = await graphql(live_server, APPROVE, None, token)
        assert approved["data"]["approveStation"]["station"] == {"registrationStatus": "ACCEPTED"}
        assert await asyncio.wait_for(station.boots.get(), 10) == "Accepted"
        assert (await send_command(gateway, unit_of_work, "CP-APPROVE", models.Reset())).accepted
