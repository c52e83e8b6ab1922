"""The loop behind group commit and grouped reads: what has gathered goes out as one batch.

Up to `concurrency` batches are in flight at once, each on its own connection. A lone item goes
out at once; under load the slots are busy and items gather into the next batches. A station's
messages are handled one after another, so its writes never race each other across batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Generic, TypeVar

Batch = TypeVar("Batch")


class BatchRunner(Generic[Batch]):
    def __init__(
        self,
        take: Callable[[], Batch | None],
        process: Callable[[Batch], Coroutine[object, object, None]],
        *,
        concurrency: int,
        name: str,
    ) -> None:
        self._take = take
        self._process = process
        self._slots = asyncio.Semaphore(concurrency)
        self._name = name
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop taking batches; finish those in flight and what is still waiting."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        while (batch := self._take()) is not None:
            await self._process(batch)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while True:
                await self._slots.acquire()
                batch = self._take()
                if batch is None:
                    self._slots.release()
                    break
                task = asyncio.create_task(self._process(batch))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()
