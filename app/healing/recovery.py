"""Automatic fault recovery: the remote actions the rules call for, sent as the system,
recorded in the command log and on the alert, one step at a time through the outbox (so one
node does each step, and a node that dies hands the rest over)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app import outbox
from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import Command, Reset, UnlockConnector
from app.healing import repository
from app.healing import service as healing
from app.healing.rules import (
    RecoveryAction,
    RecoveryAttempt,
    calls_for_unlock,
    classify_fault,
    decide_recovery,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# How often a fault is looked at again while a session holds the reset back.
WAIT_FOR_SESSION = timedelta(minutes=1)
# After an action, the station needs a moment to reboot and report again.
LEAST_RECHECK = timedelta(seconds=5)


def _command(action: RecoveryAction, payload: dict[str, Any]) -> Command:
    if action is RecoveryAction.UNLOCK:
        return UnlockConnector(evse_id=payload["evse_id"], connector_id=payload["connector_id"])
    return Reset(hard=action is RecoveryAction.HARD_RESET)


def _attempts(actions: list[dict[str, Any]]) -> list[RecoveryAttempt]:
    names = {action.value for action in RecoveryAction}
    return [
        RecoveryAttempt(
            at=datetime.fromisoformat(done["at"]), action=RecoveryAction(done["action"])
        )
        for done in actions
        if done.get("action") in names
    ]


async def _again(
    payload: dict[str, Any], at: datetime, unit_of_work: Callable[[], UnitOfWork]
) -> None:
    """Look at the fault again at `at`."""
    key = healing.fault_key(payload["station_id"], payload["evse_id"], payload["connector_id"])
    async with unit_of_work():
        await outbox.enqueue(
            payload["organization_id"],
            healing.RECOVER,
            payload,
            f"{key}:{at.isoformat()}",
            not_before=at,
        )


def outbox_handlers(
    gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork]
) -> dict[str, outbox.Handler]:
    async def recover(payload: dict[str, Any]) -> None:
        organization_id, station_id = payload["organization_id"], payload["station_id"]
        key = healing.fault_key(station_id, payload["evse_id"], payload["connector_id"])
        # The alert is open exactly while the fault is: a status or event that clears the
        # fault resolves it (a NotifyEvent fault may never touch the connector's status).
        alert = await repository.open_alert_by_key(organization_id, key)
        if alert is None:
            return  # cleared meanwhile
        policy = await healing.policy_of(organization_id)
        now = utcnow()
        decision = decide_recovery(
            classify_fault(
                payload["error_code"], payload["vendor_error_code"], payload["info"], policy=policy
            ),
            _attempts(alert.actions),
            now,
            await repository.session_running(station_id),
            policy,
            unlock_first=calls_for_unlock(payload["error_code"]),
            fault_seen_at=datetime.fromisoformat(payload["fault_seen_at"]),
        )
        if decision.escalate:
            async with unit_of_work():
                await repository.escalate(
                    alert.id,
                    (decision.severity or "warning").lower(),
                    f"{alert.message}: {decision.reason}",
                )
                await repository.record_action(
                    alert.id, {"at": now.isoformat(), "escalated": True, "reason": decision.reason}
                )
            return
        if decision.action is None:
            await _again(payload, now + WAIT_FOR_SESSION, unit_of_work)
            return
        if decision.not_before is not None and decision.not_before > now:
            await _again(payload, decision.not_before, unit_of_work)
            return
        outcome = await commands.system_action(
            gateway, unit_of_work, payload["identity"], _command(decision.action, payload)
        )
        async with unit_of_work():
            await repository.record_action(
                alert.id,
                {
                    "at": now.isoformat(),
                    "action": decision.action.value,
                    "outcome": outcome,
                    "reason": decision.reason,
                    "by": "system",
                },
            )
        await _again(payload, utcnow() + LEAST_RECHECK, unit_of_work)

    return {healing.RECOVER: recover}
