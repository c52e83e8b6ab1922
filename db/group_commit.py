"""Group commit for the two writes every charger sends most: status changes and meter values.

Each write waits until the statement holding it has committed, so nothing acknowledged can be
lost; but many stations' writes share one statement (rows passed as arrays to `unnest`),
instead of each paying for its own BEGIN, statements and COMMIT. While batches are being
written the next one gathers (db.batching), so batches grow with the load and a lone write
waits for no timer. PostgreSQL only: SQLite serialises writes anyway.

If a batch fails, its writes are retried one by one, so one bad row fails only its own sender.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from piccolo.engine.postgres import PostgresEngine

from db.batching import BatchRunner
from db.group_read import GroupRead

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
CONCURRENT_BATCHES = 4


# One data-modifying SQL statement with its $n arguments.
Statement = tuple[str, list[Any]]


class Write(Protocol):
    @staticmethod
    def statements(writes: Sequence[Any]) -> list[Statement]:
        """The statements that apply these writes; they must not touch the same rows."""
        ...


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
    def statements(writes: Sequence[StatusWrite]) -> list[Statement]:
        # The last report wins where one connector (or station) reports twice in a batch.
        connectors = {w.connector_row: w for w in writes if w.connector_row is not None}
        stations = {w.station_id: w for w in writes if w.connector_row is None}
        statements: list[Statement] = []
        if connectors:
            statements.append(
                (
                    "UPDATE connector AS c SET status = u.status, error_code = u.error_code, "
                    "vendor_error_code = u.vendor_error_code, info = u.info, "
                    "status_updated_at = u.occurred_at "
                    "FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], "
                    "$6::timestamptz[]) AS u(id, status, error_code, vendor_error_code, info, "
                    "occurred_at) WHERE c.id = u.id",
                    columns(
                        (
                            w.connector_row,
                            w.status,
                            w.error_code,
                            w.vendor_error_code,
                            w.info,
                            w.occurred_at,
                        )
                        for w in connectors.values()
                    ),
                )
            )
        if stations:
            statements.append(
                (
                    "UPDATE charging_station AS s SET status = u.status, "
                    "error_code = u.error_code, last_seen_at = u.received_at "
                    "FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[]) "
                    "AS u(id, status, error_code, received_at) WHERE s.id = u.id",
                    columns(
                        (w.station_id, w.status, w.error_code, w.received_at)
                        for w in stations.values()
                    ),
                )
            )
        statements.append(
            (
                "INSERT INTO status_change (station, connector, status, error_code, "
                "vendor_error_code, info, occurred_at, received_at) "
                "SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], "
                "$6::text[], $7::timestamptz[], $8::timestamptz[])",
                columns(
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
                ),
            )
        )
        return statements


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
    def statements(writes: Sequence[MeterWrite]) -> list[Statement]:
        statements: list[Statement] = []
        samples = [row for w in writes for row in w.samples]
        if samples:
            statements.append(
                (
                    "INSERT INTO meter_sample (session, station, connector, sampled_at, measurand, "
                    "phase, location, unit, context, value, signed_data, signing_method, "
                    "encoding_method, public_key) "
                    "SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[], "
                    "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::numeric[], "
                    "$11::text[], $12::text[], $13::text[], $14::text[])",
                    columns(samples),
                )
            )
        sessions = {w.session_id: w for w in writes if w.session_id is not None}
        if sessions:
            statements.append(
                (
                    "UPDATE charging_session AS s SET energy_wh = u.energy_wh, "
                    "power_w = COALESCE(u.power_w, s.power_w), "
                    "last_meter_at = COALESCE(u.last_meter_at, s.last_meter_at), "
                    "updated_at = u.updated_at "
                    "FROM unnest($1::int[], $2::bigint[], $3::int[], $4::timestamptz[], "
                    "$5::timestamptz[]) AS u(id, energy_wh, power_w, last_meter_at, updated_at) "
                    "WHERE s.id = u.id",
                    columns(
                        (w.session_id, w.energy_wh, w.power_w, w.last_meter_at, w.updated_at)
                        for w in sessions.values()
                    ),
                )
            )
        return statements


def columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as one list per column: the arrays of `unnest`, which writes a whole batch in
    one statement (executemany runs the statement once per row)."""
    return [list(column) for column in zip(*rows, strict=True)]


@dataclass
class _Pending:
    write: Any
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        # The hot path's lookups, grouped the same way (see db.group_read).
        self.reads = GroupRead(engine)
        self._pending: list[_Pending] = []
        self._runner = BatchRunner(
            self._take, self._write_batch, concurrency=CONCURRENT_BATCHES, name="group-commit"
        )
        self.batches = 0
        self.writes = 0

    async def start(self) -> None:
        await self.reads.start()
        await self._runner.start()

    async def stop(self) -> None:
        await self._runner.stop()  # writes still waiting are written, not dropped
        await self.reads.stop()

    async def submit(self, write: Any) -> None:
        """Return once the write is committed (raise if it could not be)."""
        pending = _Pending(write)
        self._pending.append(pending)
        self._runner.wake()
        await pending.done

    def _take(self) -> list[_Pending] | None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        return batch or None

    async def _write_batch(self, batch: list[_Pending]) -> None:
        pool = self._engine.pool
        assert pool is not None, "group commit needs the connection pool"
        try:
            statements = statements_of([p.write for p in batch])
            if statements:  # e.g. MeterValues with no sampled value: nothing to write
                sql, arguments = one_statement(statements)
                async with pool.acquire() as connection:
                    await connection.execute(sql, *arguments)
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


def statements_of(writes: Sequence[Any]) -> list[Statement]:
    by_type: dict[Any, list[Any]] = {}
    for write in writes:
        by_type.setdefault(type(write), []).append(write)
    return [
        statement
        for write_type, group in by_type.items()
        for statement in write_type.statements(group)
    ]


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _shift_placeholders(sql: str, offset: int) -> str:
    return _PLACEHOLDER.sub(lambda match: f"${int(match.group(1)) + offset}", sql)


def one_statement(statements: Sequence[Statement]) -> Statement:
    """Several data-modifying statements as one: each becomes a CTE, its $n renumbered.

    One statement is one round trip and its own transaction (no BEGIN/COMMIT). Each round trip
    of a batch waits a full turn of a busy event loop, so this, not the database, set the time
    a batch took. The statements see the same snapshot, hence: never the same rows."""
    if len(statements) == 1:
        return statements[0]
    parts: list[str] = []
    arguments: list[Any] = []
    for number, (sql, own_arguments) in enumerate(statements):
        offset = len(arguments)
        parts.append(f"w{number} AS ({_shift_placeholders(sql, offset)})")
        arguments.extend(own_arguments)
    return "WITH " + ", ".join(parts) + " SELECT 1", arguments
