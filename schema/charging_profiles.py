"""Charging profiles installed on stations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.smart_charging import service as smart_charging
from app.smart_charging.models import ChargingProfileView, CompositeScheduleView
from app.timeparse import parse_timestamp
from schema.context import Context
from schema.enums import (
    ChargingProfileKind,
    ChargingProfileSource,
    ChargingProfileStatus,
    RecurrencyKind,
)
from schema.ids import nodes_by_id
from schema.json_keys import camel_keys


@strawberry.type(description="A charging profile the station accepted.")
class ChargingProfile(relay.Node):
    id: relay.NodeID[int]
    evse_id: int = strawberry.field(description="0: the whole station")
    profile_id: int = strawberry.field(description="chargingProfileId on the station")
    stack_level: int
    purpose: str = strawberry.field(
        description="ChargePointMaxProfile, TxDefaultProfile or TxProfile"
    )
    kind: ChargingProfileKind
    recurrency_kind: RecurrencyKind | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: str | None
    schedule: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="The chargingSchedule as sent (OCPP 1.6 JSON)."
    )
    source: ChargingProfileSource
    status: ChargingProfileStatus
    created_at: datetime

    @classmethod
    def from_model(cls, model: ChargingProfileView) -> ChargingProfile:
        return cls(
            id=model.id,
            evse_id=model.evse_id,
            profile_id=model.profile_id,
            stack_level=model.stack_level,
            purpose=model.purpose,
            kind=ChargingProfileKind(model.kind),
            recurrency_kind=RecurrencyKind(model.recurrency_kind)
            if model.recurrency_kind
            else None,
            valid_from=model.valid_from,
            valid_to=model.valid_to,
            transaction_id=model.transaction_id,
            schedule=camel_keys(model.schedule),
            source=ChargingProfileSource(model.source),
            status=ChargingProfileStatus(model.status),
            created_at=model.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[ChargingProfile | None]:
        return await nodes_by_id(
            node_ids,
            partial(smart_charging.profiles_by_ids, info.context.principal),
            cls.from_model,
        )


@strawberry.type(
    description="The limits in force at an EVSE (0: the whole station) as the station last "
    "reported them (getCompositeSchedule), whoever set them."
)
class CompositeSchedule:
    evse_id: int = strawberry.field(description="0: the whole station")
    schedule_start: datetime | None
    duration_s: int | None
    charging_rate_unit: str | None = strawberry.field(description="A or W")
    periods: list[dict[str, Any]] = strawberry.field(
        graphql_type=JSON,
        description="chargingSchedulePeriod as reported: startPeriod (s), limit, numberPhases.",
    )
    received_at: datetime

    @classmethod
    def from_model(cls, model: CompositeScheduleView) -> CompositeSchedule:
        schedule = model.schedule
        start = schedule.get("schedule_start")
        return cls(
            evse_id=model.evse_id,
            schedule_start=parse_timestamp(start) if start else None,
            duration_s=schedule.get("duration"),
            charging_rate_unit=schedule.get("charging_rate_unit"),
            periods=camel_keys(schedule.get("charging_schedule_period") or []),
            received_at=model.received_at,
        )
