"""Every query of the commands domain: the command log."""

from __future__ import annotations

from typing import Any

from app.timeparse import utcnow
from db.tables import CommandLog


async def log_request(
    organization_id: int, station_id: int, action: str, request: dict[str, Any], actor: str
) -> int:
    entry = CommandLog(
        organization=organization_id,
        station=station_id,
        action=action,
        request=request,
        actor=actor,
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
