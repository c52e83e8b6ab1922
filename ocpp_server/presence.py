"""Who was heard from, written in batches; stations silent for too long are marked offline.

Every frame counts as a sign of life, but writing `last_seen_at` per frame would add a database
write to every message: the tracker collects station ids and writes them once per interval.
A pong counts too: a station that answers the websocket pings is alive, even if it sends its
heartbeats late or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.runtime import Runtime
from app.server_options import PONG_TIMEOUT_S
from app.stations import service as stations
from app.timeparse import utcnow

if TYPE_CHECKING:
    from ocpp_server.server import OcppServer

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 10.0
SWEEP_INTERVAL_S = 30.0
# Close code for a connection whose station went silent (private range 4000-4999).
SILENT_CLOSE_CODE = 4002
# A station quiet this long (or its heartbeat interval, if shorter) that answers the pings is
# recorded as heard: no more often than a station at the default interval sends heartbeats.
PONGS_RECORDED_EVERY_S = 300


class PresenceTracker:
    def __init__(self, server: OcppServer, runtime: Runtime) -> None:
        self._server = server
        self._runtime = runtime
        self._heard: set[int] = set()
        # When each station connected here was last recorded as heard (monotonic seconds).
        self._recorded_at: dict[int, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.clock: Callable[[], float] = time.monotonic  # the connections' clock

    def heard(self, station_id: int) -> None:
        self._heard.add(station_id)

    def forget(self, station_id: int) -> None:
        """The station's connection here has ended."""
        self._recorded_at.pop(station_id, None)

    async def flush(self) -> None:
        heard, self._heard = self._heard, set()
        if heard:
            now = self.clock()
            for station_id in heard:
                self._recorded_at[station_id] = now
            await stations.record_heartbeat(sorted(heard))

    def hear_pongs(self) -> None:
        """Stations connected here that answer the websocket pings but have been quiet: heard.
        uvicorn closes a connection whose pong is more than PONG_TIMEOUT_S late, so one open
        longer than a ping interval plus that has answered its pings."""
        now = self.clock()
        answered_a_ping_after = self._runtime.settings.ocpp_ping_interval_s + PONG_TIMEOUT_S
        for live in self._server.connections():
            station, connected_at = live.link.station, live.link.connected_at
            if now - connected_at < answered_a_ping_after:
                continue
            quiet_for = now - self._recorded_at.get(station.id, connected_at)
            if quiet_for >= min(station.heartbeat_interval, PONGS_RECORDED_EVERY_S):
                self._heard.add(station.id)

    async def sweep(self) -> list[str]:
        """Mark silent stations offline; close their sockets here if any are still open."""
        self.hear_pongs()
        await self.flush()
        silent = await stations.mark_silent_stations_offline(self._runtime.unit_of_work(), utcnow())
        for identity in silent:
            live = self._server.live(identity)
            if live is not None:
                logger.warning("station %s went silent; closing its connection", identity)
                with contextlib.suppress(RuntimeError):
                    await live.websocket.close(code=SILENT_CLOSE_CODE, reason="silent too long")
        return silent

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(FLUSH_INTERVAL_S, self.flush), name="presence-flush"),
            asyncio.create_task(self._every(SWEEP_INTERVAL_S, self.sweep), name="presence-sweep"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()

    @staticmethod
    async def _every(interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await job()
            except Exception:
                logger.exception("presence job failed; retrying next interval")
