"""Two server processes sharing the database and Redis: a command issued on one node reaches a
station connected to the other, and its events reach subscribers on both."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from app.commands import models
from app.commands.service import send_command
from app.events import StationConnectionChanged
from tests.conftest import (
    COMMAND_TIMEOUT_S,
    LiveServer,
    free_port,
    graphql,
    next_event_of,
    until_ready,
)
from tests.ocpp_server.test_commands import Station16, booted


@pytest.fixture
async def second_node(settings, tmp_path, database):
    if settings.redis_url is None:
        pytest.skip(
            "needs CPMS_REDIS_URL: nodes meet on Redis (runs in the PostgreSQL + Redis pass)"
        )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPMS_")}
    env.update(
        CPMS_DATABASE_URL=settings.database_url,
        CPMS_REDIS_URL=settings.redis_url,
        CPMS_NODE_ID="node-2",
        CPMS_COMMAND_TIMEOUT_S=str(COMMAND_TIMEOUT_S),
        CPMS_LOG_FORMAT="json",
    )
    log_path = tmp_path / "node-2.log"
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    node = LiveServer(port, app=None)

    async def stop() -> None:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)

    node.stop = stop
    node.log_path = log_path
    try:
        await until_ready(node, process, log_path)
        yield node
    finally:
        await stop()


async def test_command_from_one_node_reaches_a_station_on_another(
    live_server, second_node, register
):
    from tests.conftest import charger

    await register("CP-ELSEWHERE")
    gateway = live_server.app.state.gateway
    unit_of_work = live_server.app.state.runtime.unit_of_work
    bus = live_server.app.state.runtime.bus
    async with (
        bus.subscribe(StationConnectionChanged) as events,
        charger(second_node, "CP-ELSEWHERE", client_class=Station16) as client,
    ):
        connected = await next_event_of(events, "CP-ELSEWHERE", within_s=10)
        assert (connected.identity, connected.node_id) == ("CP-ELSEWHERE", "node-2")
        await booted(client, "ocpp1.6")
        result = await send_command(
            gateway, unit_of_work, "CP-ELSEWHERE", models.RemoteStart(id_token="APPUSER", evse_id=2)
        )
    assert result.status == "Accepted"
    assert client.received == [("RemoteStartTransaction", {"id_tag": "APPUSER", "connector_id": 2})]


async def test_a_station_that_left_the_other_node_is_offline_at_once(
    live_server, second_node, register
):
    from app.commands.errors import StationOffline
    from tests.conftest import charger

    await register("CP-GONE")
    gateway = live_server.app.state.gateway
    directory = live_server.app.state.ocpp.directory
    async with charger(second_node, "CP-GONE", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        assert await directory.locate("CP-GONE") == "node-2"
    for _ in range(100):  # the other node removes its entry as the socket closes
        if await directory.locate("CP-GONE") is None:
            break
        await asyncio.sleep(0.05)
    # Offline, not a timeout: no command went to a node that no longer serves the station.
    with pytest.raises(StationOffline):
        await gateway.send("CP-GONE", models.Reset())


async def test_a_subscriber_on_one_node_sees_a_station_on_the_other(
    live_server, second_node, register, api_key
):
    from ocpp.v16 import call

    from tests.conftest import charger
    from tests.graphql_ws import TRANSPORT_WS, graphql_ws
    from tests.schema.test_subscriptions import CONNECTOR_STATUS, first_event

    await register("CP-FAR")
    token = await api_key(role="viewer")
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, token) as client,
        charger(second_node, "CP-FAR") as station,
    ):
        await client.subscribe(CONNECTOR_STATUS, {"identity": "CP-FAR"})
        event = await first_event(
            client,
            lambda: station.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Faulted")
            ),
        )
    assert event["connectorStatus"]["identity"] == "CP-FAR"
    assert event["connectorStatus"]["status"] == "FAULTED"


async def test_a_stopping_node_takes_its_stations_offline_and_out_of_the_directory(
    live_server, second_node, register
):
    from contextlib import AsyncExitStack

    from db.tables import ChargingStation
    from tests.conftest import charger

    identities = [f"CP-DRAIN-{number}" for number in range(3)]
    for identity in identities:
        await register(identity)
    directory = live_server.app.state.ocpp.directory
    bus = live_server.app.state.runtime.bus
    async with AsyncExitStack() as stack:
        events = await stack.enter_async_context(bus.subscribe(StationConnectionChanged))
        for identity in identities:
            client = await stack.enter_async_context(
                charger(second_node, identity, client_class=Station16)
            )
            await booted(client, "ocpp1.6")
            assert await directory.locate(identity) == "node-2"
        await second_node.stop()
        gone = set()
        while gone != set(identities):
            event = await asyncio.wait_for(anext(events), 10)
            if event.identity in identities and not event.connected:
                assert event.node_id == "node-2"
                gone.add(event.identity)
    rows = await ChargingStation.select(ChargingStation.connected).where(
        ChargingStation.identity.is_in(identities)
    )
    assert [row["connected"] for row in rows] == [False] * len(identities)
    for identity in identities:
        assert await directory.locate(identity) is None
    log = second_node.log_path.read_text()
    assert "Traceback" not in log and "cancelled" not in log, log
    # All at once as the node stopped, not one by one as each connection closed.
    assert "stopping: 3 stations of this node marked offline" in log, log


async def test_a_key_revoked_on_one_node_closes_its_sockets_on_the_other(
    live_server, second_node, api_key
):
    from tests.graphql_ws import graphql_ws
    from tests.schema.test_open_sockets import CONNECTIONS, REVOKE_KEY, closed_code, key_id

    admin, viewer = await api_key(), await api_key(role="viewer")
    async with graphql_ws(f"{second_node.ws}/graphql", token=viewer) as client:
        await client.subscribe(CONNECTIONS)
        answer = await graphql(live_server, REVOKE_KEY, {"id": await key_id(viewer)}, admin)
        assert answer["data"]["revokeApiKey"]["__typename"] == "ApiKeyRevoked"
        assert await closed_code(client.connection) == 4403


async def test_a_station_that_connects_to_another_node_is_let_go_by_the_first(
    live_server, second_node, register
):
    from tests.conftest import charger

    await register("CP-TWICE")
    directory = live_server.app.state.ocpp.directory
    async with charger(live_server, "CP-TWICE", client_class=Station16) as first:
        await booted(first, "ocpp1.6")
        async with charger(second_node, "CP-TWICE", client_class=Station16) as second:
            await booted(second, "ocpp1.6")
            await asyncio.wait_for(first._connection.wait_closed(), 5)
            assert first._connection.close_code == 4001
            assert live_server.app.state.ocpp.live("CP-TWICE") is None
            assert await directory.locate("CP-TWICE") == "node-2"
            await directory.renew()  # the first node's renewal does not take it back
            assert await directory.locate("CP-TWICE") == "node-2"


async def test_a_command_in_flight_ends_at_once_when_its_station_moves_to_another_node(
    live_server, second_node, register
):
    """The node holding the station loses it mid-command (the station reconnected elsewhere,
    as after that node died): the command ends as offline, not after its timeout."""
    from app.commands.errors import StationOffline
    from tests.conftest import charger
    from tests.ocpp_server.test_command_interruptions import SilentOnReset

    await register("CP-MOVES")
    gateway = live_server.app.state.gateway
    async with charger(second_node, "CP-MOVES", client_class=SilentOnReset) as first:
        await booted(first, "ocpp1.6")
        sending = asyncio.create_task(gateway.send("CP-MOVES", models.Reset()))
        await asyncio.wait_for(first.reset_received.wait(), 5)
        async with charger(live_server, "CP-MOVES", client_class=Station16) as second:
            await booted(second, "ocpp1.6")
            with pytest.raises(StationOffline):
                await sending
