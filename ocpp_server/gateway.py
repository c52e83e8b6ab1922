"""The ChargerGateway of the domain, over OCPP: local connections first, other nodes via the bus.

Each node listens on its own command channel. A command for a station connected elsewhere is
published to that node's channel with a reply channel; the owning node sends it to the station
and publishes the answer (or the error) back. Where a station is connected comes from the
station directory (`ocpp_server.directory`).

A command gives up as soon as its answer cannot come, instead of waiting out its timeout: when
the station's connection closes, when its node stops or dies, or when the station turns up on
another node. A request carries the moment its sender gives up; a node that receives it later
(it waited in the bus while Redis was away) drops it rather than act on it late."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, validate_payload
from redis.exceptions import RedisError
from starlette.websockets import WebSocketDisconnect

from app.commands.errors import (
    ERRORS_BY_CODE,
    BusUnavailable,
    CommandFailed,
    CommandTimeout,
    StationNotReady,
    StationOffline,
)
from app.commands.models import (
    Command,
    CommandResult,
    decode_command,
    encode_command,
    secrets_of,
)
from app.errors import CPMSError, InvalidInput
from app.events import MessageStream
from app.runtime import Runtime
from ocpp_server.server import LiveConnection, OcppServer
from ocpp_server.subprotocols import OCPP201
from ocpp_server.v16 import commands as v16_commands
from ocpp_server.v201 import commands as v201_commands

logger = logging.getLogger(__name__)

# Extra wait for a remote node's answer beyond the station timeout it applies itself.
REMOTE_GRACE_S = 5.0
# How often a command waiting for another node's answer checks that the node still holds the
# station (one Redis round trip).
HOLDER_CHECK_S = 1.0


def command_channel(node_id: str) -> str:
    return f"cpms:commands:{node_id}"


class OcppGateway:
    def __init__(self, server: OcppServer, runtime: Runtime) -> None:
        self._server = server
        self._bus = runtime.bus
        self._node_id = runtime.settings.node_id
        self._timeout_s = runtime.settings.command_timeout_s
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._answers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._serve_other_nodes(), name="command-listener")
        listening = asyncio.create_task(self._listening.wait())
        await asyncio.wait({listening, self._listener}, return_when=asyncio.FIRST_COMPLETED)
        if self._listener.done():  # it failed before listening: fail start-up, don't hang
            listening.cancel()
            self._listener.result()

    async def stop(self) -> None:
        for task in [self._listener, *self._answers]:
            if task is not None:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                *(t for t in [self._listener, *self._answers] if t), return_exceptions=True
            )

    async def send(self, identity: str, command: Command) -> CommandResult:
        live = self._server.live(identity)
        if live is not None:
            return await self._send_local(live, command)
        try:
            node_id = await self._server.directory.locate(identity)
        except RedisError as error:
            raise self._unreachable(identity, error) from None
        if node_id is None or node_id == self._node_id:
            raise StationOffline(f"station {identity} is not connected")
        return await self._send_remote(node_id, identity, command)

    def _unreachable(self, identity: str, error: RedisError) -> BusUnavailable:
        logger.warning("cannot route a command for station %s: Redis: %s", identity, error)
        return BusUnavailable(
            f"station {identity} is not connected to this node, and the other nodes cannot be"
            " reached right now; nothing was sent, try again shortly"
        )

    async def _send_local(self, live: LiveConnection, command: Command) -> CommandResult:
        identity = live.link.station.identity
        if not live.link.ready_for(command.name):
            raise StationNotReady(
                f"station {identity} has not been accepted by a boot on this connection yet"
            )
        translation: Any = v201_commands if live.link.protocol == OCPP201 else v16_commands
        payload = translation.to_call(command)
        await _refuse_unsendable(live, payload)
        live.charge_point._response_timeout = self._timeout_s
        station_id = live.link.station.id
        try:
            with self._server.message_log.masking(station_id, secrets_of(command)):
                response = await _unless_closed(
                    live, live.charge_point.call(payload, suppress=False)
                )
        except TimeoutError:
            action = command.name.api_name
            raise CommandTimeout(
                f"station {identity} did not answer {action} in {self._timeout_s:g} s"
            ) from None
        except WebSocketDisconnect:
            raise StationOffline(f"station {identity} disconnected") from None
        except OCPPError as error:
            raise CommandFailed(
                f"station {identity} answered {error.code}: {error.description}"
            ) from None
        result = translation.to_result(command, response)
        return dataclasses.replace(result, data=plain_json(result.data))

    async def _send_remote(self, node_id: str, identity: str, command: Command) -> CommandResult:
        reply_channel = f"cpms:command-replies:{uuid.uuid4().hex}"
        within_s = self._timeout_s + REMOTE_GRACE_S
        request = {
            "identity": identity,
            "command": encode_command(command),
            "reply_to": reply_channel,
            "expires_at": time.time() + within_s,
        }
        try:
            async with self._bus.listen(reply_channel) as replies:
                await self._bus.send(command_channel(node_id), json.dumps(request))
                reply = json.loads(await self._reply(replies, node_id, identity, within_s))
        except RedisError as error:
            raise self._unreachable(identity, error) from None
        if "error" in reply:
            error_type = ERRORS_BY_CODE.get(reply["error"]["code"], CommandFailed)
            raise error_type(reply["error"]["message"])
        return CommandResult(**reply["result"])

    async def _reply(
        self, replies: MessageStream, node_id: str, identity: str, within_s: float
    ) -> str:
        """The holder's answer; StationOffline as soon as the holder no longer holds the
        station (it stopped or died, or the station connected elsewhere): no answer can come."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + within_s
        answer = asyncio.ensure_future(anext(replies))
        try:
            while not answer.done():
                remaining = give_up_at - loop.time()
                if remaining <= 0:
                    raise CommandTimeout(f"node {node_id} did not answer for station {identity}")
                await asyncio.wait({answer}, timeout=min(HOLDER_CHECK_S, remaining))
                if not answer.done() and not await self._still_holds(node_id, identity):
                    raise StationOffline(
                        f"station {identity} left node {node_id} before it answered; the"
                        " command may or may not have reached it"
                    )
            return answer.result()
        finally:
            answer.cancel()

    async def _still_holds(self, node_id: str, identity: str) -> bool:
        try:
            return await self._server.directory.locate(identity) == node_id
        except RedisError:
            return True  # cannot tell: wait for the answer (or the timeout)

    async def _serve_other_nodes(self) -> None:
        async with self._bus.listen(command_channel(self._node_id)) as requests:
            self._listening.set()
            async for raw in requests:
                task = asyncio.create_task(self._answer(json.loads(raw)))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)

    async def _answer(self, request: dict[str, Any]) -> None:
        identity = request["identity"]
        if time.time() > request.get("expires_at", math.inf):
            logger.info("dropped a command for station %s: its sender gave up before", identity)
            return
        reply: dict[str, Any]
        try:
            command = decode_command(request["command"])
            live = self._server.live(identity)
            if live is None:
                raise StationOffline(f"station {identity} is not connected")
            result = await self._send_local(live, command)
            reply = {"result": {"status": result.status, "data": result.data}}
        except CPMSError as error:
            reply = {"error": {"code": error.code, "message": error.message}}
        except asyncio.CancelledError:  # this node is stopping: its sender need not wait
            stopped = StationOffline(
                f"node {self._node_id} stopped before station {identity} answered"
            )
            await self._bus.send(
                request["reply_to"],
                json.dumps({"error": {"code": stopped.code, "message": stopped.message}}),
            )
            raise
        except Exception as error:  # never leave a caller waiting on another node
            logger.exception("command from another node failed")
            reply = {"error": {"code": "call_error", "message": str(error)}}
        await self._bus.send(request["reply_to"], json.dumps(reply))


async def _unless_closed(live: LiveConnection, call: Awaitable[Any]) -> Any:
    """The station's answer to a call; StationOffline as soon as its connection ends (the
    OCPP library would otherwise wait out the timeout for an answer that cannot come)."""
    answer = asyncio.ensure_future(call)
    closed = asyncio.ensure_future(live.closed.wait())
    try:
        await asyncio.wait({answer, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
        if not answer.done():
            answer.cancel()
    if not answer.done():
        identity = live.link.station.identity
        raise StationOffline(f"station {identity} disconnected before it answered")
    return answer.result()


def plain_json(value: Any) -> Any:
    """A station's answer as plain JSON: the ocpp library reads numbers with a fraction as
    Decimal, which neither the API's JSON, the command log nor another node can carry."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    return value


async def _refuse_unsendable(live: LiveConnection, payload: Any) -> None:
    """The version's schema check of a call, before it is sent: what the domain's own checks
    let through is still the caller's InvalidInput, not an answer the station never gave (the
    library would raise the same OCPP error for it as for a station's CallError)."""
    call = Call(
        unique_id="-",
        action=type(payload).__name__,
        payload=remove_nones(snake_to_camel_case(serialize_as_dict(payload))),
    )
    try:
        await validate_payload(call, live.charge_point._ocpp_version)
    except OCPPError as error:
        raise InvalidInput(f"{call.action} cannot be sent: {error.description}") from None
