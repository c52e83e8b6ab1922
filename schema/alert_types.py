"""Alerts: what an operator must know about, open until the condition clears."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.errors import CPMSError, InvalidInput
from app.events import AlertChanged
from app.healing import service as healing
from app.healing.models import AlertFilter, AlertView
from schema.context import Context
from schema.enums import AlertKind, AlertSeverity, AlertStatus
from schema.ids import local_id, nodes_by_id
from schema.json_keys import camel_keys
from schema.problems import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)
from schema.types import ChargingStation


@strawberry.type
class Alert(relay.Node):
    id: relay.NodeID[int]
    kind: AlertKind
    severity: AlertSeverity
    status: AlertStatus
    message: str
    details: dict[str, Any] = strawberry.field(graphql_type=JSON)
    opened_at: datetime
    resolved_at: datetime | None
    actions: list[dict[str, Any]] = strawberry.field(
        graphql_type=JSON,
        description="What was done about it: remote actions by the system with their outcome, "
        "escalations.",
    )
    station_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, model: AlertView) -> Alert:
        return cls(
            id=model.id,
            kind=model.kind,
            severity=model.severity,
            status=model.status,
            message=model.message,
            details=camel_keys(model.details),
            opened_at=model.opened_at,
            resolved_at=model.resolved_at,
            actions=camel_keys(model.actions),
            station_id=model.station_id,
        )

    @classmethod
    def from_event(cls, event: AlertChanged) -> Alert:
        return cls(
            id=event.alert_id,
            kind=AlertKind(event.alert_kind),
            severity=AlertSeverity(event.severity),
            status=AlertStatus(event.status),
            message=event.message,
            details=camel_keys(event.details),
            opened_at=event.opened_at,
            resolved_at=event.resolved_at,
            actions=[],
            station_id=event.station_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Alert | None]:
        return await nodes_by_id(
            node_ids, partial(healing.alerts_by_ids, info.context.principal), cls.from_model
        )

    @strawberry.field
    async def station(self, info: Info[Context, None]) -> ChargingStation | None:
        if self.station_id is None:
            return None
        station = await info.context.loaders.station.load(self.station_id)
        return ChargingStation.from_model(station) if station else None


@strawberry.input
class AlertFilterInput:
    status: AlertStatus | None = None
    severity: AlertSeverity | None = None
    station_id: relay.GlobalID | None = None
    site_id: relay.GlobalID | None = None
    kind: AlertKind | None = None

    def to_model(self) -> AlertFilter:
        return AlertFilter(
            status=self.status,
            severity=self.severity,
            station_id=local_id(self.station_id, "ChargingStation"),
            site_id=local_id(self.site_id, "Site"),
            kind=self.kind,
        )


@strawberry.type
class AlertResolved:
    alert: Alert


ResolveAlertResult = Annotated[
    AlertResolved | NotAuthenticatedError | NotPermittedError | NotFoundError,
    strawberry.union("ResolveAlertResult"),
]


@strawberry.type(description="The organization's self-healing rules and thresholds.")
class HealingSettings:
    settings: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="What the organization set; the rest are defaults."
    )


HealingSettingsResult = Annotated[
    HealingSettings | NotAuthenticatedError | NotPermittedError | InvalidInputError,
    strawberry.union("HealingSettingsResult"),
]


@strawberry.type
class AlertMutation:
    @strawberry.mutation(
        description="Set the self-healing rules (admin): auto_recovery, max_attempts, "
        "attempt_window_s, backoff_s, ghost_idle_s, ghost_max_power_w, ghost_max_energy_wh, "
        "stuck_after_s, offline_alert_after_s, recoverable_codes, safety_codes, "
        "alert_only_codes. A bad value is an InvalidInputError naming it."
    )
    async def update_healing_settings(
        self, info: Info[Context, None], settings: JSON
    ) -> HealingSettingsResult:
        context = info.context
        try:
            if not isinstance(settings, dict):
                raise InvalidInput("the healing settings are a JSON object")
            await healing.update_policy(context.runtime.unit_of_work(), context.principal, settings)
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return HealingSettings(settings=settings)

    @strawberry.mutation(
        description="Close an alert by hand, e.g. a security event that was looked into "
        "(operators). Alerts whose condition clears resolve by themselves."
    )
    async def resolve_alert(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> ResolveAlertResult:
        context = info.context
        try:
            alert = await healing.resolve_alert(
                context.runtime.unit_of_work(), context.principal, local_id(id, "Alert") or 0
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return AlertResolved(alert=Alert.from_model(alert))
