"""Per-connection frame budget, so one station flooding messages cannot slow the others.

A token bucket: a station may send a burst (its offline queue after a reconnect), then
`rate` frames per second. Beyond that its next frame is simply read later: its frames wait in
its own socket buffer (TCP pushes back on the sender) and nothing is refused or lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from app import metrics

logger = logging.getLogger(__name__)

BURST_SECONDS = 5.0


class FrameThrottle:
    def __init__(
        self, identity: str, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._identity = identity
        self._warned = False
        self._rate = rate
        self._capacity = max(1.0, rate * BURST_SECONDS)
        self._tokens = self._capacity
        self._clock = clock
        self._updated = clock()

    def delay(self) -> float:
        """Take one frame's token; the seconds to wait before handling that frame."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    async def admit(self) -> None:
        wait = self.delay()
        if wait > 0:
            metrics.OCPP_FRAMES_THROTTLED.inc()
            if not self._warned:  # once per connection: enough to find the station
                self._warned = True
                logger.warning(
                    "station %s sends more than %g frames/s; reading its frames more slowly",
                    self._identity,
                    self._rate,
                )
            await asyncio.sleep(wait)
