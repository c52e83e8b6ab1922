"""Charging sessions billed: a completed session gets its CDR (a reaction to the session's
completion, after commit), what a reaction missed is billed by the reconciliation round, and a
charge can be corrected with another tariff."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.billing import service as billing
from app.billing.models import CdrView
from app.errors import InvalidInput, NotFound
from app.events import SessionChanged
from app.healing import service as healing
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.sessions import service as sessions
from app.sessions.models import COMPLETED
from app.tariffs import service as tariffs
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# Reconciliation looks back this far: a session still incomplete after that needs a person.
RECONCILE_WINDOW = timedelta(days=7)
# Left alone this long after its end, so the reaction to its stop bills it first.
RECONCILE_GRACE = timedelta(minutes=2)
INCOMPLETE_AFTER = timedelta(hours=1)


def is_complete(change: SessionChanged) -> bool:
    return change.state == COMPLETED


async def on_sessions(uow: UnitOfWork, changes: Sequence[SessionChanged]) -> None:
    """Reaction, after commit: a session that is complete (its end, or a late message that
    completes its data) is billed. Billing never fails the station's message: a session left
    without its CDR is found and billed by the reconciliation round."""
    for session_id in {change.session_id for change in changes if change.state == COMPLETED}:
        await _bill_safely(uow, session_id)


async def _bill_safely(uow: UnitOfWork, session_id: int) -> None:
    try:
        await bill_session(uow, session_id)
    except Exception:
        logger.exception("could not bill session %s; it stays without a CDR for now", session_id)


async def bill_session(uow: UnitOfWork, session_id: int) -> None:
    """Once a session is complete, its CDR is issued (once) and its cost kept."""
    billable = await sessions.billable(session_id)
    if billable is None:
        return
    cdr = await billing.issue_cdr(uow, billable)
    if cdr is not None:
        await _keep_cost(uow, session_id, cdr)


async def _keep_cost(uow: UnitOfWork, session_id: int, cdr: CdrView) -> None:
    await sessions.keep_cost(uow, session_id, cdr.total_cost_incl_vat_minor, cdr.currency)


async def correct_charge(
    uow: UnitOfWork, principal: Principal, cdr_id: int, tariff_id: int
) -> CdrView:
    """Price a session again with another tariff (e.g. the wrong one was assigned): its CDR
    is credited and a new one issued; the driver's payment is adjusted by hand (a refund)."""
    require(principal, Permission.MANAGE)
    original = (await billing.cdrs_by_ids(principal, [cdr_id])).get(cdr_id)
    if original is None or original.session_id is None:
        raise NotFound(f"no CDR {cdr_id} of a session")
    tariff = (await tariffs.tariffs_by_ids(principal, [tariff_id])).get(tariff_id)
    if tariff is None:
        raise NotFound(f"no tariff {tariff_id}")
    billable = await sessions.billable(original.session_id, tariff.snapshot().to_ocpi())
    if billable is None:
        raise InvalidInput("the session is not complete")
    corrected = await billing.correct_cdr(uow, original, billable)
    await _keep_cost(uow, original.session_id, corrected)
    return corrected


async def bill_unbilled(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Bill the sessions that ended without a CDR (billing failed, or data came late and
    completed them); idempotent, so every node may run it. How many were looked at."""
    moment = now or utcnow()
    pending = await sessions.completed_without_cdr(
        moment - RECONCILE_WINDOW, moment - RECONCILE_GRACE
    )
    for session_id in pending:
        await _bill_safely(uow, session_id)
    # What is still unbilled an hour after its end misses data (a TransactionEvent that
    # never came): a person decides.
    for session_id in await sessions.completed_without_cdr(
        moment - RECONCILE_WINDOW, moment - INCOMPLETE_AFTER
    ):
        facts = await sessions.billing_facts(session_id)
        if facts is None:
            continue
        async with uow:
            await healing.raise_alert(
                uow,
                AlertDraft(
                    organization_id=facts["organization"],
                    kind=AlertKind.INCOMPLETE_SESSION,
                    severity=AlertSeverity.WARNING,
                    message=(
                        f"Session {facts['transaction_id']} on {facts['identity']} ended but "
                        "its data is incomplete: it cannot be billed yet"
                    ),
                    dedupe_key=healing.alert_key(AlertKind.INCOMPLETE_SESSION, session_id),
                    station_id=facts["station"],
                    details={"session_id": session_id, "seq_nos": facts["seq_nos_seen"]},
                ),
            )
    return len(pending)
