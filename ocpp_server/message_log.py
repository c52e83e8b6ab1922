"""Every raw OCPP frame in and out, kept per station for troubleshooting.

Frames are buffered and written in batches off the reply path: the log is for people, and one
insert per frame would double the database work of the hot path."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from app.timeparse import utcnow
from db.tables import OcppMessageLog

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
PRUNE_INTERVAL_S = 3600.0
INSERT_CHUNK = 1000
MAX_BUFFERED = 10_000  # beyond this, frames are dropped (and counted) rather than hold memory


def _describe(frame: str) -> tuple[int, str, str | None]:
    """(message type, message id, action) of a frame, as far as it can be read."""
    try:
        parsed = json.loads(frame)
        message_type = int(parsed[0])
        return message_type, str(parsed[1])[:64], str(parsed[2])[:48] if message_type == 2 else None
    except (ValueError, TypeError, IndexError, KeyError):
        return 0, "", None


class MessageLog:
    def __init__(self, retention: timedelta) -> None:
        self._retention = retention
        self._buffer: list[OcppMessageLog] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, station_id: int | None, identity: str, direction: str, frame: str) -> None:
        if len(self._buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        message_type, message_id, action = _describe(frame)
        self._buffer.append(
            OcppMessageLog(
                station=station_id,
                identity=identity[:64],
                direction=direction,
                message_type=message_type,
                message_id=message_id,
                action=action,
                frame=frame,
            )
        )

    async def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        # PostgreSQL takes at most 32767 parameters per statement: insert in chunks.
        for start in range(0, len(batch), INSERT_CHUNK):
            chunk = batch[start : start + INSERT_CHUNK]
            try:
                await OcppMessageLog.insert(*chunk)
            except Exception:
                logger.exception("could not write %d OCPP frames to the message log", len(chunk))

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

    async def _run(self) -> None:
        last_pruned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            await self.flush()
            if loop.time() - last_pruned >= PRUNE_INTERVAL_S:
                try:
                    await self.prune()
                except Exception:
                    logger.exception("could not prune the OCPP message log")
                last_pruned = loop.time()
