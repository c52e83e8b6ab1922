"""Grouped reads: concurrent lookups of the same kind answered by one query.

The hot path looks up one row per message (the session a meter value belongs to). Each lookup on
its own pays for a pool checkout and a round trip, which cost more than the query; under load,
the lookups that arrive while queries run are answered together by the next (db.batching).
PostgreSQL only, like group commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Protocol

from piccolo.engine.postgres import PostgresEngine

from db.batching import BatchRunner

MAX_KEYS = 1000
CONCURRENT_QUERIES = 4


class Read(Protocol):
    @staticmethod
    async def read_many(connection: Any, keys: Sequence[Any]) -> Mapping[Any, Any]:
        """The row for each key found; keys without a row are left out."""
        ...


class GroupRead:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        self._pending: dict[type[Read], dict[Hashable, list[asyncio.Future[Any]]]] = {}
        self._runner = BatchRunner(
            self._take, self._read_all, concurrency=CONCURRENT_QUERIES, name="group-read"
        )
        self.queries = 0
        self.lookups = 0

    async def start(self) -> None:
        await self._runner.start()

    async def stop(self) -> None:
        await self._runner.stop()

    async def fetch(self, read: type[Read], key: Hashable) -> Any:
        """The row for `key` (None if there is none), read together with concurrent lookups."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(read, {}).setdefault(key, []).append(answer)
        self._runner.wake()
        return await answer

    def _take(self) -> dict[type[Read], dict[Hashable, list[asyncio.Future[Any]]]] | None:
        pending, self._pending = self._pending, {}
        return pending or None

    async def _read_all(
        self, pending: dict[type[Read], dict[Hashable, list[asyncio.Future[Any]]]]
    ) -> None:
        for read, waiting in pending.items():
            keys = list(waiting)
            for start in range(0, len(keys), MAX_KEYS):
                await self._read_batch(read, keys[start : start + MAX_KEYS], waiting)

    async def _read_batch(
        self,
        read: type[Read],
        keys: list[Hashable],
        waiting: dict[Hashable, list[asyncio.Future[Any]]],
    ) -> None:
        pool = self._engine.pool
        try:
            assert pool is not None, "grouped reads need the connection pool"
            async with pool.acquire() as connection:
                rows = await read.read_many(connection, keys)
        except Exception as error:
            for key in keys:
                for answer in waiting[key]:
                    if not answer.done():
                        answer.set_exception(error)
            return
        self.queries += 1
        self.lookups += len(keys)
        for key in keys:
            for answer in waiting[key]:
                if not answer.done():
                    answer.set_result(rows.get(key))
