"""How many station connections a node admits at once, and how long one may wait for its turn.

Admitting a connection costs database work (who is it, record it as connected) before the
websocket handshake is answered. When thousands reconnect at once, a node that took them all
would answer each so late that the stations gave up first and retried, and every retry is
work again: the node stays busy without getting anyone online. So a node admits `limit` at a
time and turns away, before any database work, one that waited longer than `patience_s`; the
station tries again a little later, as chargers do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdmissionGate:
    def __init__(self, limit: int, patience_s: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._patience_s = patience_s

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """Whether this connection got its turn in time; it holds the turn inside the block."""
        try:
            await asyncio.wait_for(self._slots.acquire(), self._patience_s)
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            self._slots.release()
