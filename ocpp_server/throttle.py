"""Per-connection frame budget, so one station flooding messages cannot slow the others.

A token bucket: a station may send a burst (its offline queue after a reconnect), then
`rate` frames per second. Beyond that its next frame is simply read later: its frames wait in
its own socket buffer (TCP pushes back on the sender) and nothing is refused or lost.

The bucket is the station's on this node, not its connection's: a station that reconnects
(or connects twice) carries on with what it had left, so reconnecting in a loop does not buy
a fresh burst each time."""

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

    def seconds_until_full(self) -> float:
        """How long until the bucket is full again (a station away that long starts afresh)."""
        refilled = (self._clock() - self._updated) * self._rate
        return max(0.0, (self._capacity - self._tokens - refilled) / self._rate)

    async def admit(self) -> None:
        wait = self.delay()
        if wait > 0:
            metrics.OCPP_FRAMES_THROTTLED.inc()
            if not self._warned:  # once per bucket: enough to find the station
                self._warned = True
                logger.warning(
                    "station %s sends more than %g frames/s; reading its frames more slowly",
                    self._identity,
                    self._rate,
                )
            await asyncio.sleep(wait)


class FrameBudgets:
    """One bucket per station on this node, shared by its connections and kept after they end
    until it would be full again (forgetting it sooner would hand out a fresh burst)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        # A station's bucket and how many of its connections use it.
        self._buckets: dict[str, tuple[FrameThrottle, int]] = {}
        self._forgetting: dict[str, asyncio.TimerHandle] = {}

    def take(self, identity: str) -> FrameThrottle:
        """The station's bucket, for a connection of it that starts."""
        pending = self._forgetting.pop(identity, None)
        if pending is not None:
            pending.cancel()
        throttle, users = self._buckets.get(identity) or (
            FrameThrottle(identity, self._rate, self._clock),
            0,
        )
        self._buckets[identity] = (throttle, users + 1)
        return throttle

    def give_back(self, identity: str) -> None:
        """A connection of the station ended."""
        throttle, users = self._buckets[identity]
        self._buckets[identity] = (throttle, users - 1)
        if users == 1:
            self._forgetting[identity] = asyncio.get_running_loop().call_later(
                throttle.seconds_until_full(), self._forget, identity
            )

    def _forget(self, identity: str) -> None:
        self._forgetting.pop(identity, None)
        _throttle, users = self._buckets[identity]
        if users == 0:  # no connection took it back meanwhile
            del self._buckets[identity]

    def __len__(self) -> int:
        return len(self._buckets)
