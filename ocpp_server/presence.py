"""Who was heard from, written in batches; stations silent for too long are marked offline.

Every frame counts as a sign of life, but writing `last_seen_at` per frame would add a database
write to every message: the tracker collects station ids and writes them once per interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.runtime import Runtime
from app.stations import service as stations
from app.timeparse import utcnow

if TYPE_CHECKING:
    from ocpp_server.server import OcppServer

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 10.0
SWEEP_INTERVAL_S = 30.0
# Close code for a connection whose station went silent (private range 4000-4999).
SILENT_CLOSE_CODE = 4002


class PresenceTracker:
    def __init__(self, server: OcppServer, runtime: Runtime) -> None:
        self._server = server
        self._runtime = runtime
        self._heard: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def heard(self, station_id: int) -> None:
        self._heard.add(station_id)

    async def flush(self) -> None:
        heard, self._heard = self._heard, set()
        if heard:
            await stations.record_heartbeat(sorted(heard))

    async def sweep(self) -> list[str]:
        """Mark silent stations offline; close their sockets here if any are still open."""
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
