"""Remote commands through the gateway to real OCPP clients of both versions."""

import asyncio
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

from app.commands import models
from app.commands.errors import CommandFailed, CommandTimeout, StationNotReady, StationOffline
from app.commands.service import send_command
from db.tables import CommandLog, StationConfiguration
from tests.ocpp_server.test_endpoint import open_station


class Station16(Client16):
    """A 1.6 charger that accepts what it is asked and remembers it."""

    received: list[tuple[str, dict]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action16.remote_start_transaction)
    def remote_start(self, **payload: Any) -> result16.RemoteStartTransaction:
        self.received.append(("RemoteStartTransaction", payload))
        return result16.RemoteStartTransaction(status="Accepted")

    @on(Action16.reset)
    def reset(self, **payload: Any) -> result16.Reset:
        self.received.append(("Reset", payload))
        return result16.Reset(status="Accepted")

    @on(Action16.change_availability)
    def change_availability(self, **payload: Any) -> result16.ChangeAvailability:
        self.received.append(("ChangeAvailability", payload))
        return result16.ChangeAvailability(status="Scheduled")

    @on(Action16.get_configuration)
    def get_configuration(self, **payload: Any) -> result16.GetConfiguration:
        return result16.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            unknown_key=["Nope"],
        )

    @on(Action16.unlock_connector)
    def unlock(self, **payload: Any) -> result16.UnlockConnector:
        return result16.UnlockConnector(status="Unlocked")


class Station201(Client201):
    """A 2.0.1 charging station that accepts what it is asked and remembers it."""

    received: list[tuple[str, dict]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action201.request_start_transaction)
    def request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        self.received.append(("RequestStartTransaction", payload))
        return result201.RequestStartTransaction(status="Accepted")

    @on(Action201.reset)
    def reset(self, **payload: Any) -> result201.Reset:
        self.received.append(("Reset", payload))
        return result201.Reset(status="Accepted")

    @on(Action201.set_variables)
    def set_variables(self, set_variable_data: list, **_: Any) -> result201.SetVariables:
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attributeStatus": "RebootRequired",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in set_variable_data
            ]
        )


async def booted(client: Any, protocol: str) -> None:
    if protocol == "ocpp1.6":
        await client.call(call16.BootNotification(charge_point_vendor="A", charge_point_model="B"))
    else:
        await client.call(
            call201.BootNotification(
                charging_station={"model": "B", "vendorName": "A"}, reason="PowerUp"
            )
        )


@pytest.fixture
def gateway(live_server):
    return live_server.app.state.gateway


async def test_commands_reach_a_16_station(register, connect_charger, gateway, unit_of_work):
    await register("CP-CMD-16")
    async with connect_charger("CP-CMD-16", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        start = await send_command(
            gateway,
            unit_of_work,
            "CP-CMD-16",
            models.RemoteStart(id_token="APPUSER", evse_id=1),
            actor="user",
        )
        reset = await send_command(gateway, unit_of_work, "CP-CMD-16", models.Reset(hard=True))
        availability = await send_command(
            gateway,
            unit_of_work,
            "CP-CMD-16",
            models.ChangeAvailability(operative=False, evse_id=2),
        )
        config = await send_command(
            gateway,
            unit_of_work,
            "CP-CMD-16",
            models.GetConfiguration(keys=("HeartbeatInterval", "Nope")),
        )
        unlock = await send_command(
            gateway, unit_of_work, "CP-CMD-16", models.UnlockConnector(evse_id=1)
        )
    assert (start.status, reset.status, availability.status, unlock.status) == (
        "Accepted",
        "Accepted",
        "Scheduled",
        "Unlocked",
    )
    assert config.data == {"values": {"HeartbeatInterval": "300"}, "unknown": ["Nope"]}
    stored = await StationConfiguration.select(
        StationConfiguration.component, StationConfiguration.variable, StationConfiguration.value
    )
    assert stored == [{"component": "", "variable": "HeartbeatInterval", "value": "300"}]
    assert client.received == [
        ("RemoteStartTransaction", {"id_tag": "APPUSER", "connector_id": 1}),
        ("Reset", {"type": "Hard"}),
        ("ChangeAvailability", {"connector_id": 2, "type": "Inoperative"}),
    ]
    log = await CommandLog.select().order_by(CommandLog.id)
    assert [(e["action"], e["status"], e["actor"]) for e in log] == [
        ("remote_start", "accepted", "user"),
        ("reset", "accepted", "system"),
        ("change_availability", "accepted", "system"),  # Scheduled: done once idle
        ("get_configuration", "accepted", "system"),
        ("unlock_connector", "accepted", "system"),  # Unlocked
    ]
    assert all(e["completed_at"] is not None for e in log)


async def test_commands_reach_a_201_station(register, connect_charger, gateway, unit_of_work):
    await register("CP-CMD-201")
    async with connect_charger("CP-CMD-201", "ocpp2.0.1", client_class=Station201) as client:
        await booted(client, "ocpp2.0.1")
        start = await send_command(
            gateway, unit_of_work, "CP-CMD-201", models.RemoteStart(id_token="APPUSER", evse_id=1)
        )
        reset = await send_command(gateway, unit_of_work, "CP-CMD-201", models.Reset(hard=False))
        change = await send_command(
            gateway,
            unit_of_work,
            "CP-CMD-201",
            models.ChangeConfiguration(key="OCPPCommCtrlr.HeartbeatInterval", value="60"),
        )
    assert (start.status, reset.status, change.status) == ("Accepted", "Accepted", "RebootRequired")
    assert client.received == [
        (
            "RequestStartTransaction",
            {
                "id_token": {"id_token": "APPUSER", "type": "Central"},
                "remote_start_id": 1,  # the station's first request id
                "evse_id": 1,
            },
        ),
        ("Reset", {"type": "OnIdle"}),
    ]


async def test_offline_station_fails_at_once(register, gateway, unit_of_work):
    await register("CP-AWAY")
    with pytest.raises(StationOffline):
        await send_command(gateway, unit_of_work, "CP-AWAY", models.ClearCache())
    with pytest.raises(StationOffline):
        await send_command(gateway, unit_of_work, "CP-NEVER-HEARD-OF", models.ClearCache())
    log = await CommandLog.select(CommandLog.status, CommandLog.error_code)
    assert log == [{"status": "failed", "error_code": "station_offline"}]


async def test_no_command_before_an_accepted_boot(register, connect_charger, gateway, unit_of_work):
    await register("CP-FRESH")
    async with connect_charger("CP-FRESH", client_class=Station16):
        with pytest.raises(StationNotReady):
            await send_command(gateway, unit_of_work, "CP-FRESH", models.Reset())


async def test_a_station_without_the_feature_gives_a_call_error(
    register, connect_charger, gateway, unit_of_work
):
    await register("CP-BASIC")
    async with connect_charger("CP-BASIC", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        with pytest.raises(CommandFailed, match="NotImplemented"):
            await send_command(gateway, unit_of_work, "CP-BASIC", models.ClearCache())


async def test_a_silent_station_times_out(register, live_server, gateway, unit_of_work):
    await register("CP-SILENT")
    async with await open_station(live_server, "CP-SILENT", "ocpp1.6") as websocket:
        await websocket.send(
            '[2,"b","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]'
        )
        await websocket.recv()
        started = asyncio.get_running_loop().time()
        with pytest.raises(CommandTimeout):
            await send_command(gateway, unit_of_work, "CP-SILENT", models.Reset())
        assert asyncio.get_running_loop().time() - started < 10
    log = await CommandLog.select(CommandLog.status).first()
    assert log == {"status": "timeout"}


async def test_command_results_are_published(register, connect_charger, live_server):
    from app.events import CommandCompleted
    from tests.conftest import next_event_of

    await register("CP-CMD-EVENT")
    runtime = live_server.app.state.runtime
    async with (
        runtime.bus.subscribe(CommandCompleted) as events,
        connect_charger("CP-CMD-EVENT", client_class=Station16) as client,
    ):
        await booted(client, "ocpp1.6")
        await send_command(
            live_server.app.state.gateway, runtime.unit_of_work, "CP-CMD-EVENT", models.Reset()
        )
        event = await next_event_of(events, "CP-CMD-EVENT")
    assert (event.action, event.status, event.station_status) == ("reset", "accepted", "Accepted")
