"""A command that keeps failing on a station needs a person: a reaction to every command's
outcome, in the transaction that logs it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from app.commands import service as commands
from app.commands.errors import CommandInterrupted
from app.commands.models import CommandAction, CommandStatus, SetChargingProfile
from app.errors import InvalidInput
from app.events import CommandCompleted
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.healing.service import alert_key, clear_alert, raise_alert
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# This many failures of one command on one station within WITHIN is an alert.
REPEATED_FAILURES = 3
WITHIN = timedelta(hours=1)
# A station that refuses a charging profile may draw more than its site is allowed (load
# balancing counts it at its maximum, which takes from the others): an alert at the first.
REFUSED_AT_ONCE = frozenset({CommandAction.SET_CHARGING_PROFILE})
# Outcomes that say nothing about the station: an input that could not be sent (the
# caller's), and a command whose sender stopped before the station answered.
NOT_THE_STATIONS = frozenset({InvalidInput.code, CommandInterrupted.code})


async def watch_command_failures(uow: UnitOfWork, events: Sequence[CommandCompleted]) -> None:
    """An alert once a command failed, timed out or was refused REPEATED_FAILURES times within
    the hour on one station; resolved by the next one that works."""
    for event in events:
        await _watch(uow, event)


async def _watch(uow: UnitOfWork, event: CommandCompleted) -> None:
    if event.error_code in NOT_THE_STATIONS:
        return
    subject = await _subject(event)
    key = alert_key(AlertKind.COMMAND_FAILURES, event.station_id, subject)
    if event.status == CommandStatus.ACCEPTED:
        await clear_alert(uow, event.organization_id, key)
        return
    recent = await commands.recent_failures(event.station_id, event.action, utcnow() - WITHIN)
    at_once = event.status == CommandStatus.REJECTED and event.action in REFUSED_AT_ONCE
    if recent < (1 if at_once else REPEATED_FAILURES):
        return
    await raise_alert(
        uow,
        AlertDraft(
            organization_id=event.organization_id,
            kind=AlertKind.COMMAND_FAILURES,
            severity=AlertSeverity.WARNING,
            message=(
                f"{event.identity} refused a charging profile ({subject}): it may draw more "
                "than it is allowed"
                if at_once
                else f"{event.action} failed {recent} times within an hour on {event.identity}"
            ),
            dedupe_key=key,
            station_id=event.station_id,
            details={"action": event.action, "failures": recent},
        ),
    )


async def _subject(event: CommandCompleted) -> str:
    """What an alert is about: the command, and for a charging profile its purpose, so that a
    station taking its default limit does not close the alert for the sessions' limits it
    refuses."""
    if event.action != CommandAction.SET_CHARGING_PROFILE:
        return event.action
    logged = await commands.logged_command(event.organization_id, event.command_log_id)
    command = logged[0] if logged is not None else None
    if not isinstance(command, SetChargingProfile):
        return event.action
    purpose = command.profile.get("charging_profile_purpose")
    return f"{event.action} {purpose}" if purpose else event.action
