"""A station's history for its detail page: commands sent to it and raw OCPP frames."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.commands.models import CommandLogEntry
from app.stations.models import LoggedFrame


@strawberry.type(description="A command sent to a station: who, what, and how it ended.")
class CommandLogItem:
    id: strawberry.ID
    action: str
    request: dict[str, Any] = strawberry.field(graphql_type=JSON)
    response: dict[str, Any] | None = strawberry.field(graphql_type=JSON | None)
    status: str = strawberry.field(description="pending, accepted, rejected, failed or timeout")
    error_code: str | None
    error_message: str | None
    actor: str = strawberry.field(description="user:ID, api_key:ID or system")
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_model(cls, model: CommandLogEntry) -> CommandLogItem:
        return cls(
            id=strawberry.ID(str(model.id)),
            action=model.action,
            request=model.request,
            response=model.response,
            status=model.status,
            error_code=model.error_code,
            error_message=model.error_message,
            actor=model.actor,
            created_at=model.created_at,
            completed_at=model.completed_at,
        )


@strawberry.type(description="A raw OCPP frame, as it went over the wire.")
class OcppFrame:
    direction: str = strawberry.field(description="in (from the station) or out")
    message_type: int = strawberry.field(description="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    message_id: str
    action: str | None
    frame: str
    created_at: datetime

    @classmethod
    def from_model(cls, model: LoggedFrame) -> OcppFrame:
        return cls(
            direction=model.direction,
            message_type=model.message_type,
            message_id=model.message_id,
            action=model.action,
            frame=model.frame,
            created_at=model.created_at,
        )
