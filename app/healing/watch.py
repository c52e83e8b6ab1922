"""Ghost and stuck sessions: sessions "running" on our side that no longer charge.

A periodic round (on one node: the lease) looks at quiet running sessions. A stuck one (no
meter values at all for a while) gets an alert. A ghost (power about zero and the register
still, for the idle time, and not a legitimate pause) is handled through the outbox, step by
step: ask the station for fresh meter values and status, then, if nothing flows, stop it
remotely, and if it stays open, close it on our side with the energy measured. An alert
records every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app import outbox
from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import Command, RemoteStop, TriggerMessage
from app.healing import repository
from app.healing import service as healing
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.healing.rules import (
    DEFAULT_POLICY,
    HealingPolicy,
    MeterObservation,
    is_ghost_session,
    is_stuck_session,
)
from app.sessions import service as sessions
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

GHOST = "healing.ghost"
# Fresh meter values asked for arrive within this; then the ghost is judged again.
CONFIRM_AFTER = timedelta(seconds=30)
# After a remote stop, the station's own StopTransaction is waited for this long.
CLOSE_AFTER = timedelta(seconds=60)
# Readings looked at: the idle time and a margin for the baseline before it.
BASELINE_MARGIN = timedelta(minutes=15)


async def check_sessions(
    unit_of_work: Callable[[], UnitOfWork], now: datetime | None = None
) -> int:
    """One round over the quiet running sessions; how many were found ghost or stuck."""
    moment = now or utcnow()
    policies: dict[int, HealingPolicy] = {}
    found = 0
    for row in await sessions.quiet_active_sessions(
        moment - DEFAULT_POLICY.ghost_idle, max(DEFAULT_POLICY.ghost_max_power_w, 1_000)
    ):
        organization_id = row["organization"]
        if organization_id not in policies:
            policies[organization_id] = await healing.policy_of(organization_id)
        policy = policies[organization_id]
        if is_stuck_session(row["last_meter_at"], row["started_at"], moment, policy):
            found += 1
            await _alert_stuck(unit_of_work(), row)
            continue
        points = await sessions.recent_points(
            row["id"], row["meter_start_wh"], moment - policy.ghost_idle - BASELINE_MARGIN
        )
        verdict = is_ghost_session(
            [MeterObservation(at, energy, power) for at, energy, power in points],
            row["connector_status"],
            moment,
            policy,
        )
        if verdict.is_ghost:
            found += 1
            async with unit_of_work():
                await outbox.enqueue(
                    organization_id,
                    GHOST,
                    {
                        "organization_id": organization_id,
                        "session_id": row["id"],
                        "station_id": row["station"],
                        "identity": row["identity"],
                        "transaction_id": row["transaction_id"],
                        "evse_id": row["evse_number"],
                        "energy_wh": row["energy_wh"],
                        "reason": verdict.reason,
                        "step": "confirm",
                    },
                    f"ghost:{row['id']}",
                )
    return found


async def _alert_stuck(uow: UnitOfWork, row: dict[str, Any]) -> None:
    async with uow:
        await healing.raise_alert(
            uow,
            AlertDraft(
                organization_id=row["organization"],
                kind=AlertKind.STUCK_SESSION,
                severity=AlertSeverity.WARNING,
                message=(
                    f"Session {row['transaction_id']} on {row['identity']} sends no meter values"
                ),
                dedupe_key=healing.alert_key(AlertKind.STUCK_SESSION, row["id"]),
                station_id=row["station"],
                details={"session_id": row["id"]},
            ),
        )


def _alert_draft(payload: dict[str, Any]) -> AlertDraft:
    return AlertDraft(
        organization_id=payload["organization_id"],
        kind=AlertKind.GHOST_SESSION,
        severity=AlertSeverity.WARNING,
        message=(
            f"Session {payload['transaction_id']} on {payload['identity']} was running with "
            f"nothing flowing: {payload['reason']}"
        ),
        dedupe_key=healing.alert_key(AlertKind.GHOST_SESSION, payload["session_id"]),
        station_id=payload["station_id"],
        details={"session_id": payload["session_id"], "energy_wh": payload["energy_wh"]},
    )


def outbox_handlers(
    gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork]
) -> dict[str, outbox.Handler]:
    async def send(payload: dict[str, Any], command: Command) -> str:
        return await commands.system_action(gateway, unit_of_work, payload["identity"], command)

    async def record(payload: dict[str, Any], action: dict[str, Any]) -> None:
        async with unit_of_work() as uow:
            await healing.raise_alert(uow, _alert_draft(payload))
            alert = await repository.open_alert_by_key(
                payload["organization_id"],
                healing.alert_key(AlertKind.GHOST_SESSION, payload["session_id"]),
            )
            if alert is not None:
                await repository.record_action(
                    alert.id, {"at": utcnow().isoformat(), "by": "system", **action}
                )

    async def next_step(payload: dict[str, Any], step: str, after: timedelta) -> None:
        async with unit_of_work():
            await outbox.enqueue(
                payload["organization_id"],
                GHOST,
                {**payload, "step": step},
                f"ghost:{payload['session_id']}:{step}",
                not_before=utcnow() + after,
            )

    async def ghost(payload: dict[str, Any]) -> None:
        session_id = payload["session_id"]
        if not await repository.session_is_active(session_id):
            return  # it ended meanwhile
        step = payload["step"]
        if step == "confirm":
            evse = payload["evse_id"]
            for message in ("MeterValues", "StatusNotification"):
                outcome = await send(payload, TriggerMessage(message=message, evse_id=evse))
                await record(payload, {"action": f"trigger_{message}", "outcome": outcome})
            await next_step(payload, "stop", CONFIRM_AFTER)
        elif step == "stop":
            if await _flows_again(payload):
                await record(payload, {"action": "none", "outcome": "charging again"})
                return
            outcome = await send(payload, RemoteStop(transaction_id=payload["transaction_id"]))
            await record(payload, {"action": "remote_stop", "outcome": outcome})
            await next_step(payload, "close", CLOSE_AFTER)
        elif step == "close":
            closed = await sessions.close_on_our_side(unit_of_work(), session_id, "GhostSession")
            if closed:
                await record(payload, {"action": "closed_by_cpms", "outcome": "completed"})

    return {GHOST: ghost}


async def _flows_again(payload: dict[str, Any]) -> bool:
    """Fresh readings since the ghost was seen: power above idle or the register moving."""
    policy = await healing.policy_of(payload["organization_id"])
    points = await sessions.recent_points(
        payload["session_id"], None, utcnow() - CONFIRM_AFTER - timedelta(minutes=1)
    )
    energy = await repository.session_energy(payload["session_id"])
    moving = energy is not None and energy - payload["energy_wh"] > policy.ghost_max_energy_wh
    powered = any(power is not None and power > policy.ghost_max_power_w for _, _, power in points)
    return moving or powered
