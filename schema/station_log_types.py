"""A station's history for its detail page: commands sent to it and raw OCPP frames."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.commands import service as commands
from app.commands.models import CommandLogEntry
from app.stations.models import LoggedFrame
from schema.context import Context
from schema.enums import CommandAction, CommandStatus, FrameDirection
from schema.ids import nodes_by_id
from schema.json_keys import camel_keys, station_answer


@strawberry.type(description="A command sent to a station: who, what, and how it ended.")
class CommandLog(relay.Node):
    id: relay.NodeID[int]
    action: CommandAction
    request: dict[str, Any] = strawberry.field(graphql_type=JSON)
    response: dict[str, Any] | None = strawberry.field(graphql_type=JSON | None)
    status: CommandStatus
    error_code: str | None
    error_message: str | None
    actor: str = strawberry.field(description="user:ID, api_key:ID or system")
    created_at: datetime
    completed_at: datetime | None
    request_id: int | None = strawberry.field(
        description="The id the CPMS gave this request and the station echoes in what follows "
        "(2.0.1 remoteStartId; the requestId of a firmware update, log upload or report)"
    )
    progress: str | None = strawberry.field(
        description="The latest status the station reported for this request: a firmware "
        "update's FirmwareStatus, a log upload's LogStatus or DiagnosticsStatus"
    )
    progress_at: datetime | None

    @classmethod
    def from_model(cls, model: CommandLogEntry) -> CommandLog:
        return cls(
            id=model.id,
            action=CommandAction(model.action),
            request=camel_keys(model.request),
            response=station_answer(model.response) if model.response else None,
            status=CommandStatus(model.status),
            error_code=model.error_code,
            error_message=model.error_message,
            actor=model.actor,
            created_at=model.created_at,
            completed_at=model.completed_at,
            request_id=model.request_id,
            progress=model.progress,
            progress_at=model.progress_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[CommandLog | None]:
        return await nodes_by_id(
            node_ids, partial(commands.command_log_by_ids, info.context.principal), cls.from_model
        )


@strawberry.type(description="A raw OCPP frame, as it went over the wire.")
class OcppFrame:
    direction: FrameDirection
    message_type: int = strawberry.field(description="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    message_id: str
    action: str | None
    frame: str
    created_at: datetime

    @classmethod
    def from_model(cls, model: LoggedFrame) -> OcppFrame:
        return cls(
            direction=FrameDirection(model.direction),
            message_type=model.message_type,
            message_id=model.message_id,
            action=model.action,
            frame=model.frame,
            created_at=model.created_at,
        )
