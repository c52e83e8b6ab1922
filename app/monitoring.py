"""Gauges read when /metrics is scraped: the database pool, the outbox, sessions in progress,
this node's stations. Figures that need a query are cached, so a scraper polling often costs
at most one round of queries per REFRESH_S."""

from __future__ import annotations

import time
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app import metrics
from app.outbox import pending_stats
from app.sessions.service import active_session_count
from app.timeparse import utcnow

REFRESH_S = 15.0


class ClusterGauges:
    """The figures of the whole cluster (every node exports the same: graph their max())."""

    def __init__(self, refresh_s: float = REFRESH_S) -> None:
        self._refresh_s = refresh_s
        self._read_at: float | None = None

    async def refresh(self, engine: Any, node_id: str, connected_stations: int) -> None:
        _pool_gauges(engine)
        metrics.CONNECTED_STATIONS.labels(node=node_id).set(connected_stations)
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self._refresh_s:
            return
        self._read_at = now
        pending, oldest = await pending_stats()
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_AGE_SECONDS.set(
            (utcnow() - oldest).total_seconds() if oldest is not None else 0
        )
        metrics.ACTIVE_SESSIONS.set(await active_session_count())


def _pool_gauges(engine: Any) -> None:
    """asyncpg's pool by its public sizes; the waiters from its queue (none on SQLite)."""
    pool = getattr(engine, "pool", None) if isinstance(engine, PostgresEngine) else None
    if pool is None:
        return
    size, idle = pool.get_size(), pool.get_idle_size()
    metrics.DB_POOL_CONNECTIONS.labels(state="in_use").set(size - idle)
    metrics.DB_POOL_CONNECTIONS.labels(state="idle").set(idle)
    metrics.DB_POOL_CONNECTIONS.labels(state="max").set(pool.get_max_size())
    queue = getattr(pool, "_queue", None)  # asyncpg keeps no public count of waiters
    waiters = getattr(queue, "_getters", None)
    metrics.DB_POOL_WAITING.set(
        sum(not waiter.done() for waiter in waiters) if waiters is not None else 0
    )
