"""Every query of the commands domain: the command log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.commands.models import CommandLogEntry
from app.errors import InvalidInput
from app.pagination import Page, PageRequest
from app.timeparse import utcnow
from db.paging import page_by_id
from db.tables import CommandLog


async def log_request(
    organization_id: int,
    station_id: int,
    action: str,
    request: dict[str, Any],
    actor: str,
    request_id: int | None = None,
) -> int:
    entry = CommandLog(
        organization=organization_id,
        station=station_id,
        action=action,
        request=request,
        actor=actor,
        request_id=request_id,
    )
    await entry.save()
    return int(entry.id)


async def log_outcome(
    entry_id: int,
    status: str,
    response: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    await CommandLog.update(
        {
            CommandLog.status: status[:16],
            CommandLog.response: response,
            CommandLog.error_code: error_code,
            CommandLog.error_message: error_message,
            CommandLog.completed_at: utcnow(),
        }
    ).where(CommandLog.id == entry_id)


async def echoed_request(
    station_id: int, action: str, request_id: int | None
) -> dict[str, Any] | None:
    """The fields of the station's `action` command with this request id, whatever its
    outcome (a station that echoes the id took the command, even if its answer is still on
    its way or was lost); without an id, its latest accepted one (1.6 echoes none)."""
    query = CommandLog.select(CommandLog.id, CommandLog.request).where(
        (CommandLog.station == station_id) & (CommandLog.action == action)
    )
    if request_id is not None:
        query = query.where(CommandLog.request_id == request_id)
    else:
        query = query.where(CommandLog.status == "accepted")
    row = await query.order_by(CommandLog.id, ascending=False).first()
    if row is None:
        return None
    return {**(_json(row["request"]) or {}), "command_log_id": row["id"]}


async def record_progress(entry_id: int, progress: str, at: datetime) -> None:
    await CommandLog.update({CommandLog.progress: progress[:32], CommandLog.progress_at: at}).where(
        CommandLog.id == entry_id
    )


async def settle_pending(created_before: datetime, error_code: str, error_message: str) -> int:
    """Entries still pending that were sent before then: failed, with this reason; how many.
    (A partial index holds only pending entries, so this reads none of the rest.)"""
    settled = (
        await CommandLog.update(
            {
                CommandLog.status: "failed",
                CommandLog.error_code: error_code,
                CommandLog.error_message: error_message,
                CommandLog.completed_at: utcnow(),
            }
        )
        .where((CommandLog.status == "pending") & (CommandLog.created_at < created_before))
        .returning(CommandLog.id)
    )
    return len(settled)


_ENTRY_COLUMNS = (
    CommandLog.id,
    CommandLog.station,
    CommandLog.action,
    CommandLog.request,
    CommandLog.response,
    CommandLog.status,
    CommandLog.error_code,
    CommandLog.error_message,
    CommandLog.actor,
    CommandLog.created_at,
    CommandLog.completed_at,
    CommandLog.request_id,
    CommandLog.progress,
    CommandLog.progress_at,
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def page_command_log(
    organization_id: int, station_id: int, request: PageRequest
) -> Page[CommandLogEntry]:
    """A station's commands, newest first."""
    query = CommandLog.select(*_ENTRY_COLUMNS).where(
        (CommandLog.organization == organization_id) & (CommandLog.station == station_id)
    )
    return await page_by_id(query, CommandLog.id, request, _entry, newest_first=True)


async def command_log_by_ids(
    organization_id: int, entry_ids: Sequence[int]
) -> list[CommandLogEntry]:
    rows = await CommandLog.select(*_ENTRY_COLUMNS).where(
        (CommandLog.organization == organization_id) & CommandLog.id.is_in(list(entry_ids))
    )
    return [_entry(row) for row in rows]


def _entry(row: dict[str, Any]) -> CommandLogEntry:
    return CommandLogEntry(
        id=row["id"],
        station_id=row["station"],
        action=row["action"],
        request=_json(row["request"]) or {},
        response=_json(row["response"]),
        status=row["status"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        actor=row["actor"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        request_id=row["request_id"],
        progress=row["progress"],
        progress_at=row["progress_at"],
    )


async def recent_failures(station_id: int, action: str, since: datetime) -> int:
    """Commands of this kind to this station that failed, timed out or were refused since
    (an input that could not be sent is the caller's failure, not the station's)."""
    return await CommandLog.count().where(
        (CommandLog.station == station_id)
        & (CommandLog.action == action)
        & CommandLog.status.is_in(["failed", "timeout", "rejected"])
        & (CommandLog.error_code.is_null() | (CommandLog.error_code != InvalidInput.code))
        & (CommandLog.created_at >= since)
    )
