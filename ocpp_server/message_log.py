"""Every raw OCPP frame in and out, kept per station for troubleshooting.

Frames are buffered and written in batches off the reply path: the log is for people, and one
insert per frame would double the database work of the hot path. A frame is never lost for
another's sake: what PostgreSQL cannot store (NUL) is replaced, a batch the database refuses is
split until only the rows it refuses are left out, and while the database is away the frames
wait in memory (the oldest left out first once the buffer is full). Every frame left out is
counted in `cpms_ocpp_message_log_dropped_total`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app import metrics
from app.commands.models import SECRET_MASK
from app.sanitize import storable
from app.timeparse import utcnow
from db.engine import unreachable
from db.tables import OcppMessageLog

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
PRUNE_INTERVAL_S = 3600.0
INSERT_CHUNK = 1000
# Beyond this, frames are dropped (and counted) rather than hold memory while the database is
# away; a full chunk is written at once, so under load the buffer stays near one chunk.
MAX_BUFFERED = 100_000


def _describe(frame: str) -> tuple[int, str, str | None]:
    """(message type, message id, action) of a frame, as far as it can be read."""
    try:
        parsed = json.loads(frame)
        message_type = int(parsed[0])
        return message_type, str(parsed[1])[:64], str(parsed[2])[:48] if message_type == 2 else None
    except (ValueError, TypeError, IndexError, KeyError, RecursionError):
        return 0, "", None


_COLUMNS = (
    "station",
    "identity",
    "direction",
    "message_type",
    "message_id",
    "action",
    "frame",
    "created_at",
)
_Row = tuple[int | None, str, str, int, str, str | None, str, datetime]


def _as_kwargs(row: _Row) -> dict[str, Any]:
    return dict(zip(_COLUMNS, row, strict=True))


class MessageLog:
    def __init__(self, retention: timedelta, enabled: bool = True) -> None:
        self._retention = retention
        self._enabled = enabled
        self._buffer: deque[_Row] = deque()
        self._task: asyncio.Task[None] | None = None
        self._chunk_ready = asyncio.Event()
        self.dropped = 0
        # Per station: secrets on their way to it (a new password), masked in what is kept.
        self._secrets: dict[int, tuple[str, ...]] = {}

    @contextlib.contextmanager
    def masking(self, station_id: int, secrets: tuple[str, ...]) -> Iterator[None]:
        """While in the block, `secrets` in the station's frames are kept as SECRET_MASK."""
        if not secrets:
            yield
            return
        self._secrets[station_id] = secrets
        try:
            yield
        finally:
            self._secrets.pop(station_id, None)

    def record(self, station_id: int | None, identity: str, direction: str, frame: str) -> None:
        if not self._enabled:
            return
        if len(self._buffer) >= MAX_BUFFERED:
            self._buffer.popleft()  # the oldest goes first: the newest say what is happening
            self._lose(1)
        if self._secrets and station_id in self._secrets:
            for secret in self._secrets[station_id]:
                frame = frame.replace(secret, SECRET_MASK)
        if "\x00" in frame:  # cheap first: a raw frame can hold NUL, never a surrogate
            frame = storable(frame)
        message_type, message_id, action = _describe(frame)
        self._buffer.append(
            (
                station_id,
                identity[:64],
                direction,
                message_type,
                message_id,
                action,
                frame,
                utcnow(),
            )
        )
        if len(self._buffer) >= INSERT_CHUNK:
            self._chunk_ready.set()

    def _lose(self, count: int) -> None:
        self.dropped += count
        metrics.MESSAGE_LOG_DROPPED.inc(count)

    async def flush(self) -> None:
        batch = list(self._buffer)
        self._buffer.clear()
        # Chunks: PostgreSQL takes at most 32767 parameters per statement.
        for start in range(0, len(batch), INSERT_CHUNK):
            try:
                await self._write_or_split(batch[start : start + INSERT_CHUNK])
            except Exception as error:
                if not unreachable(error):
                    logger.exception("could not write OCPP frames to the message log")
                    self._lose(min(INSERT_CHUNK, len(batch) - start))
                    continue
                # Kept, oldest first, for the next round.
                self._buffer.extendleft(reversed(batch[start:]))
                while len(self._buffer) > MAX_BUFFERED:
                    self._buffer.popleft()
                    self._lose(1)
                logger.warning(
                    "the message log waits for the database: %d frames buffered (%s)",
                    len(self._buffer),
                    error,
                )
                return

    async def _write_or_split(self, rows: list[_Row]) -> None:
        """Write the rows; if the database refuses them, write the halves, down to the rows it
        refuses one by one, which are left out."""
        try:
            await self._write(rows)
        except Exception as error:
            if unreachable(error):
                raise
            if len(rows) == 1:
                logger.warning("an OCPP frame of %s was left out of the log: %s", rows[0][1], error)
                self._lose(1)
                return
            middle = len(rows) // 2
            await self._write_or_split(rows[:middle])
            await self._write_or_split(rows[middle:])

    @staticmethod
    async def _write(rows: list[_Row]) -> None:
        engine = OcppMessageLog._meta.db
        pool = getattr(engine, "pool", None)
        if isinstance(engine, PostgresEngine) and pool is not None:
            # COPY: several times cheaper than building an ORM insert of thousands of rows.
            async with pool.acquire() as connection:
                await connection.copy_records_to_table(
                    OcppMessageLog._meta.tablename, records=rows, columns=_COLUMNS
                )
            return
        await OcppMessageLog.insert(*(OcppMessageLog(**_as_kwargs(row)) for row in rows))

    async def prune(self) -> None:
        """Delete frames older than the retention period."""
        await OcppMessageLog.delete().where(OcppMessageLog.created_at < utcnow() - self._retention)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ocpp-message-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
        if self._buffer:  # the database is still away, and this process ends
            logger.warning("%d OCPP frames never reached the message log", len(self._buffer))
            self._lose(len(self._buffer))
            self._buffer.clear()

    async def _run(self) -> None:
        last_pruned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._chunk_ready.wait(), FLUSH_INTERVAL_S)
            self._chunk_ready.clear()
            await self.flush()
            if loop.time() - last_pruned >= PRUNE_INTERVAL_S:
                try:
                    await self.prune()
                except Exception:
                    logger.exception("could not prune the OCPP message log")
                last_pruned = loop.time()
