"""A command whose answer cannot come ends at once, and its command log entry never stays
pending: the station hangs up, the sending node stops, the nodes cannot reach each other."""

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from app.commands import models
from app.commands.errors import StationOffline
from app.commands.service import ABANDONED_MARGIN, send_command, settle_abandoned
from app.timeparse import utcnow
from db.tables import ChargingStation, CommandLog
from ocpp_server.gateway import command_channel
from tests.conftest import COMMAND_TIMEOUT_S, charger, graphql, serving
from tests.ocpp_server.test_commands import Station16, booted

RESET = """
mutation ($identity: String!) { reset(identity: $identity) {
  __typename ... on UserError { code message } } }
"""


class HangsUpOnReset(Station16):
    """Receives a Reset, then drops its connection instead of answering."""

    @on(Action16.reset)
    async def reset(self, **payload: Any) -> result16.Reset:
        self.received.append(("Reset", payload))
        await self._connection.close()
        return result16.Reset(status="Accepted")


class SilentOnReset(Station16):
    """Receives a Reset and never answers it."""

    reset_received: asyncio.Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reset_received = asyncio.Event()

    @on(Action16.reset)
    async def reset(self, **payload: Any) -> result16.Reset:
        self.reset_received.set()
        await asyncio.Event().wait()
        raise AssertionError("never answers")


async def log_entries(identity: str) -> list[dict[str, Any]]:
    station = await ChargingStation.select(ChargingStation.id).where(
        ChargingStation.identity == identity
    )
    return await CommandLog.select(
        CommandLog.action, CommandLog.status, CommandLog.error_code
    ).where(CommandLog.station == station[0]["id"])


async def test_a_station_that_hangs_up_on_a_command_fails_it_at_once(
    live_server, register, unit_of_work
):
    # The OCPP library would wait out the timeout for an answer that cannot come.
    await register("CP-HANGUP")
    gateway = live_server.app.state.gateway
    async with charger(live_server, "CP-HANGUP", client_class=HangsUpOnReset) as client:
        await booted(client, "ocpp1.6")
        try:
            await send_command(gateway, unit_of_work, "CP-HANGUP", models.Reset())
        except StationOffline as error:
            assert "disconnected before it answered" in error.message
        else:
            raise AssertionError("the command succeeded")
    assert client.received == [("Reset", {"type": "Soft"})]
    assert await log_entries("CP-HANGUP") == [
        {"action": "reset", "status": "failed", "error_code": "station_offline"}
    ]


async def test_a_command_cut_short_leaves_no_pending_entry(live_server, register, unit_of_work):
    """The node stopping cancels a command in flight: its entry says so."""
    await register("CP-CUT")
    gateway = live_server.app.state.gateway
    async with charger(live_server, "CP-CUT", client_class=SilentOnReset) as client:
        await booted(client, "ocpp1.6")
        sending = asyncio.create_task(send_command(gateway, unit_of_work, "CP-CUT", models.Reset()))
        await asyncio.wait_for(client.reset_received.wait(), 5)
        sending.cancel()
        await asyncio.wait({sending})
        assert sending.cancelled()
    assert await log_entries("CP-CUT") == [
        {"action": "reset", "status": "failed", "error_code": "interrupted"}
    ]


async def test_entries_a_stopped_node_left_pending_are_settled(register):
    """A node killed mid-command could not write the outcome: the sweep does, once no sender
    can still be waiting, and leaves alone what may still be in flight or is settled."""
    station = await register("CP-SWEPT")
    long_ago = utcnow() - timedelta(seconds=COMMAND_TIMEOUT_S) - ABANDONED_MARGIN * 2
    rows = [
        ("Reset", "pending", long_ago),
        ("ClearCache", "pending", utcnow()),
        ("UnlockConnector", "accepted", long_ago),
    ]
    for action, status, created_at in rows:
        await CommandLog.insert(
            CommandLog(
                organization=station.organization_id,
                station=station.id,
                action=action,
                status=status,
                created_at=created_at,
            )
        )
    assert await settle_abandoned(COMMAND_TIMEOUT_S) == 1
    entries = await log_entries("CP-SWEPT")
    assert sorted(entries, key=lambda entry: entry["action"]) == [
        {"action": "ClearCache", "status": "pending", "error_code": None},
        {"action": "Reset", "status": "failed", "error_code": "interrupted"},
        {"action": "UnlockConnector", "status": "accepted", "error_code": None},
    ]


async def test_a_request_that_arrives_after_its_sender_gave_up_is_dropped(live_server, register):
    """A request that waited in the bus (Redis away) past its sender's patience is not acted
    on late: a reset nobody waits for any more must not reach the station."""
    await register("CP-LATE")
    bus = live_server.app.state.runtime.bus
    node_id = live_server.app.state.runtime.settings.node_id
    async with charger(live_server, "CP-LATE", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        for expires_at in (time.time() - 1, time.time() + 30):
            reply_to = f"cpms:command-replies:{uuid.uuid4().hex}"
            request = {
                "identity": "CP-LATE",
                "command": models.encode_command(models.Reset()),
                "reply_to": reply_to,
                "expires_at": expires_at,
            }
            async with bus.listen(reply_to) as replies:
                await bus.send(command_channel(node_id), json.dumps(request))
                reply = (
                    await asyncio.wait_for(anext(replies), 5) if expires_at > time.time() else None
                )
        assert reply is not None and json.loads(reply)["result"]["status"] == "Accepted"
    assert client.received == [("Reset", {"type": "Soft"})]  # the late one was not sent


async def test_a_command_while_the_nodes_cannot_reach_each_other_is_a_typed_error(
    served_settings, database, own_redis, register, api_key
):
    await register("CP-FAR-AWAY")
    token = await api_key()
    update = {"redis_url": own_redis.url, "node_id": "node-cut-off"}
    async with serving(served_settings.model_copy(update=update)) as server:
        await own_redis.stop()
        try:
            answer = await graphql(server, RESET, {"identity": "CP-FAR-AWAY"}, token)
        finally:
            await own_redis.start()
    assert answer["data"]["reset"]["__typename"] == "BusUnavailableError", answer
    assert answer["data"]["reset"]["code"] == "bus_unavailable"
    assert await log_entries("CP-FAR-AWAY") == [
        {"action": "reset", "status": "failed", "error_code": "bus_unavailable"}
    ]
