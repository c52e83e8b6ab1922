"""A job run every so often for the life of the process; a failing round is logged and the
next one runs as planned. A job for the whole cluster runs on the node holding its lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.leases import Leases

logger = logging.getLogger(__name__)

# While stopping, a round still running is cancelled again this often.
STOP_RETRY_S = 1.0


class Periodic:
    def __init__(
        self,
        name: str,
        interval_s: float,
        job: Callable[[], Awaitable[Any]],
        leases: Leases | None = None,
        lease_s: float | None = None,
    ) -> None:
        self._name = name
        self._interval_s = interval_s
        self._job = job
        self._leases = leases
        # Held a little longer than a round, so the holder keeps it while it is alive; a job
        # whose round may outlast that says how long its lease must be.
        self._lease_s = lease_s if lease_s is not None else interval_s * 3
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """End the job: between rounds at once, in a round by cancelling it. A cancellation
        can be lost in a library that catches it (a round that runs every second or so spends
        much of its time in one), so the loop also checks `_stopping`, and the task is
        cancelled again until it has ended."""
        self._stopping.set()
        task = self._task
        if task is not None:
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_RETRY_S)
            with contextlib.suppress(asyncio.CancelledError):
                task.result()
        if self._leases is not None:
            await self._leases.release(self._name)

    async def _run(self) -> None:
        while not await self._stopped_within(self._interval_s):
            if self._leases is not None and not await self._leases.hold(self._name, self._lease_s):
                continue
            try:
                await self._job()
            except Exception:
                logger.exception("%s failed; it runs again in %s s", self._name, self._interval_s)

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the job is stopped; whether it is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()
