"""The OCPP side of one process: its open connections and its message log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.runtime import Runtime
from app.stations import service as stations
from app.stations.disconnects import DisconnectRecorder
from ocpp_server.admission import AdmissionGate
from ocpp_server.directory import StationDirectory
from ocpp_server.link import StationLink
from ocpp_server.message_log import MessageLog
from ocpp_server.presence import PresenceTracker
from ocpp_server.throttle import FrameBudgets

logger = logging.getLogger(__name__)

# Close code when a newer connection of the same station takes over (private range 4000-4999).
REPLACED_CLOSE_CODE = 4001


def let_go_channel(node_id: str) -> str:
    """Where a node hears that a station of its has connected to another node."""
    return f"cpms:station-let-go:{node_id}"


@dataclass(frozen=True)
class LiveConnection:
    websocket: WebSocket
    link: StationLink
    charge_point: Any  # ChargePoint16 | ChargePoint201
    # Set when the connection has ended: a command waiting for its answer gives up at once.
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class OcppServer:
    """Open station connections on this process: a cache of who is connected here."""

    def __init__(self, runtime: Runtime) -> None:
        self.message_log = MessageLog(
            timedelta(days=runtime.settings.message_log_retention_days),
            enabled=not runtime.settings.ocpp_dry_run,
        )
        self.presence = PresenceTracker(self, runtime)
        self.admission = AdmissionGate(
            runtime.settings.ocpp_admissions_at_once, runtime.settings.ocpp_admission_wait_s
        )
        self.frame_budgets = FrameBudgets(runtime.settings.ocpp_frames_per_s)
        self.disconnects = DisconnectRecorder(runtime.unit_of_work, runtime.settings.node_id)
        self._runtime = runtime
        self.draining = False
        self._connector_watch: asyncio.Task[None] | None = None
        self._connections: dict[str, LiveConnection] = {}
        # A lock per station in a presence turn, with how many hold or wait for it.
        self._presence_turns: dict[str, tuple[asyncio.Lock, int]] = {}
        self.directory = StationDirectory(
            runtime.settings.redis_url,
            runtime.settings.node_id,
            self._connections.keys,
            runtime.settings.redis_prefix,
            on_taken=self._tell_previous_holder,
        )
        self._let_go_listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.message_log.start()
        await self.presence.start()
        await self.disconnects.start()
        await self.directory.start()
        listening = asyncio.Event()
        self._let_go_listener = asyncio.create_task(
            self._let_go_when_told(listening), name="station-let-go"
        )
        await asyncio.wait_for(listening.wait(), 10)
        self._connector_watch = asyncio.create_task(
            stations.forget_removed_connectors(self._runtime.bus)
        )

    async def stop(self) -> None:
        if self._let_go_listener is not None:
            self._let_go_listener.cancel()
            await asyncio.gather(self._let_go_listener, return_exceptions=True)
        if self._connector_watch is not None:
            self._connector_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector_watch
        await self.directory.stop()
        await self.presence.stop()
        await self.disconnects.stop()
        if self.draining:
            offline = await stations.mark_node_offline(
                self._runtime.unit_of_work(), self._runtime.settings.node_id
            )
            logger.info("stopping: %d stations of this node marked offline", offline)
        await self.message_log.stop()

    def begin_draining(self) -> None:
        """The process is stopping. Connections that close from now on stay listed: `stop`
        takes all of them offline in a few statements and out of the directory in pipelines,
        instead of one transaction and one Redis call per station (14,000 of those overran
        the server's shutdown grace and were cancelled halfway)."""
        self.draining = True

    @contextlib.asynccontextmanager
    async def presence_turn(self, identity: str) -> AsyncIterator[None]:
        """One station's admission-and-take-over or detach-and-record-offline at a time on
        this node. Without it, a station that drops and reconnects at once could have the old
        connection's "offline" written after the new connection's "connected", and read
        offline (with an alert) while connected."""
        lock, users = self._presence_turns.get(identity, (asyncio.Lock(), 0))
        self._presence_turns[identity] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._presence_turns[identity]
            if users == 1:
                del self._presence_turns[identity]
            else:
                self._presence_turns[identity] = (lock, users - 1)

    def take_over(self, identity: str, connection: LiveConnection) -> LiveConnection | None:
        """Make this the station's connection (inside its `presence_turn`); the one it
        replaces, to be closed by `settle_take_over`."""
        previous = self._connections.get(identity)
        self._connections[identity] = connection
        return previous

    async def settle_take_over(self, identity: str, previous: LiveConnection | None) -> None:
        """Claim the station in the directory and close the connection it replaced cleanly."""
        await self.directory.claim(identity)
        if previous is not None:
            logger.info("station %s reconnected; closing its previous connection", identity)
            # It may be closing or gone already: the station left it without a goodbye.
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await previous.websocket.close(
                    code=REPLACED_CLOSE_CODE, reason="replaced by a new connection"
                )

    async def _tell_previous_holder(self, identity: str, node_id: str) -> None:
        """This node took the station over from another one: that node closes its
        connection, so that commands do not go to whichever of the two an API call reaches."""
        logger.info("station %s moved here from node %s; telling it to let go", identity, node_id)
        await self._runtime.bus.send(let_go_channel(node_id), identity)

    async def _let_go_when_told(self, listening: asyncio.Event) -> None:
        channel = let_go_channel(self._runtime.settings.node_id)
        while True:
            try:
                async with self._runtime.bus.listen(channel) as requests:
                    listening.set()
                    async for identity in requests:
                        await self._let_go(identity)
            except Exception:  # the bus away: listen again
                logger.warning("lost the station hand-over channel; listening again", exc_info=True)
                await asyncio.sleep(1)

    async def _let_go(self, identity: str) -> None:
        live = self._connections.get(identity)
        if live is None:
            return
        logger.info("station %s connected to another node; closing its connection here", identity)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await live.websocket.close(
                code=REPLACED_CLOSE_CODE, reason="replaced by a connection on another node"
            )

    async def detach(self, identity: str, websocket: WebSocket) -> bool:
        """Forget this connection; False if a newer one had replaced it."""
        current = self._connections.get(identity)
        if current is None or current.websocket is not websocket or self.draining:
            return False
        del self._connections[identity]
        await self.directory.release(identity)
        return True

    def live(self, identity: str) -> LiveConnection | None:
        return self._connections.get(identity)

    def connections(self) -> Iterable[LiveConnection]:
        """Every station connected to this node (do not await while iterating)."""
        return self._connections.values()

    def connected_count(self) -> int:
        """Stations connected to this node right now."""
        return len(self._connections)
