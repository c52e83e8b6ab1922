"""Group commit for the two writes every charger sends most: status changes and meter values.

Each write waits until a transaction holding it has committed, so nothing acknowledged can be
lost; but many stations' writes share that transaction and its statements (executemany on one
connection), instead of each paying for its own BEGIN, statements and COMMIT. While one batch
is being written the next one gathers, so batches grow with the load and a lone write waits
for no timer. PostgreSQL only: SQLite serialises writes anyway.

If a batch fails, its writes are retried one by one, so one bad row fails only its own sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from piccolo.engine.postgres import PostgresEngine

logger = logging.getLogger(__name__)

MAX_BATCH = 1000


class Write(Protocol):
    @staticmethod
    async def write_many(connection: Any, writes: Sequence[Any]) -> None: ...


@dataclass(frozen=True)
class StatusWrite:
    """A connector's (or, without connector, the station's) new status and its history row."""

    station_id: int
    connector_row: int | None
    status: str
    error_code: str | None
    vendor_error_code: str | None
    info: str | None
    occurred_at: datetime
    received_at: datetime

    @staticmethod
    async def write_many(connection: Any, writes: Sequence[StatusWrite]) -> None:
        connectors = [w for w in writes if w.connector_row is not None]
        stations = [w for w in writes if w.connector_row is None]
        if connectors:
            await connection.executemany(
                "UPDATE connector SET status = $1, error_code = $2, vendor_error_code = $3, "
                "info = $4, status_updated_at = $5 WHERE id = $6",
                [
                    (
                        w.status,
                        w.error_code,
                        w.vendor_error_code,
                        w.info,
                        w.occurred_at,
                        w.connector_row,
                    )
                    for w in connectors
                ],
            )
        if stations:
            await connection.executemany(
                "UPDATE charging_station SET status = $1, error_code = $2, last_seen_at = $3 "
                "WHERE id = $4",
                [(w.status, w.error_code, w.received_at, w.station_id) for w in stations],
            )
        await connection.executemany(
            "INSERT INTO status_change (station, connector, status, error_code, "
            "vendor_error_code, info, occurred_at, received_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                (
                    w.station_id,
                    w.connector_row,
                    w.status,
                    w.error_code,
                    w.vendor_error_code,
                    w.info,
                    w.occurred_at,
                    w.received_at,
                )
                for w in writes
            ],
        )


# (session, station, connector, sampled_at, measurand, phase, location, unit, context, value,
#  signed_data, signing_method, encoding_method, public_key)
SampleRow = tuple[
    int | None,
    int,
    int | None,
    datetime,
    str,
    str | None,
    str | None,
    str,
    str | None,
    Decimal | None,
    str | None,
    str | None,
    str | None,
    str | None,
]


@dataclass(frozen=True)
class MeterWrite:
    """Sampled values, and what the running session learnt from them (if there is one)."""

    samples: tuple[SampleRow, ...]
    session_id: int | None = None
    energy_wh: int | None = None
    power_w: int | None = None
    last_meter_at: datetime | None = None
    updated_at: datetime | None = None

    @staticmethod
    async def write_many(connection: Any, writes: Sequence[MeterWrite]) -> None:
        samples = [row for w in writes for row in w.samples]
        if samples:
            await connection.executemany(
                "INSERT INTO meter_sample (session, station, connector, sampled_at, measurand, "
                "phase, location, unit, context, value, signed_data, signing_method, "
                "encoding_method, public_key) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                samples,
            )
        sessions = [w for w in writes if w.session_id is not None]
        if sessions:
            await connection.executemany(
                "UPDATE charging_session SET energy_wh = $1, power_w = COALESCE($2, power_w), "
                "last_meter_at = COALESCE($3, last_meter_at), updated_at = $4 WHERE id = $5",
                [
                    (w.energy_wh, w.power_w, w.last_meter_at, w.updated_at, w.session_id)
                    for w in sessions
                ],
            )


@dataclass
class _Pending:
    write: Any
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending:  # don't leave writers hanging
            await self._write_batch(self._pending)
            self._pending = []

    async def submit(self, write: Any) -> None:
        """Return once the write is committed (raise if it could not be)."""
        pending = _Pending(write)
        self._pending.append(pending)
        self._wakeup.set()
        await pending.done

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[_Pending]) -> None:
        pool = self._engine.pool
        assert pool is not None, "group commit needs the connection pool"
        try:
            async with pool.acquire() as connection, connection.transaction():
                await self._write_all(connection, [p.write for p in batch])
        except Exception as error:
            if len(batch) == 1:
                if not batch[0].done.done():
                    batch[0].done.set_exception(error)
                return
            logger.warning("group commit of %d writes failed; retrying one by one", len(batch))
            for pending in batch:
                await self._write_batch([pending])
            return
        self.batches += 1
        self.writes += len(batch)
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(None)

    @staticmethod
    async def _write_all(connection: Any, writes: list[Any]) -> None:
        by_type: dict[Any, list[Any]] = {}
        for write in writes:
            by_type.setdefault(type(write), []).append(write)
        for write_type, group in by_type.items():
            await write_type.write_many(connection, group)
