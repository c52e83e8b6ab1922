"""What both versions' commands modules share: a command is checked at once and answered
(accepted with the time its result may take, or why not), then carried out through the
command service, and its outcome POSTed to the partner's `response_url` in the version's
form (`ocpi.v221.commands`, `ocpi.v211.commands`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from app.errors import CPMSError, InvalidInput, NotFound
from app.roaming import commands as roaming_commands
from app.roaming import service as roaming
from app.roaming.commands import CommandRefused, PartnerCommand, UnknownReservation, UnknownSession
from app.roaming.models import CallingPartner
from db.row_ids import row_id
from ocpi.envelope import OcpiError, Status
from ocpi.handling import runtime_of

logger = logging.getLogger(__name__)

# Beyond the station's own time to answer: routing to the node that holds it.
RESULT_MARGIN_S = 10
# Results being sent, kept referenced until they are.
_pending: set[asyncio.Task[None]] = set()

# The immediate answer: (ACCEPTED | REJECTED | UNKNOWN_SESSION, seconds, why) -> the data.
Respond = Callable[[str, int, str | None], Any]
# The outcome of a command carried out (`roaming_commands.Outcome`) -> the result's body.
ResultBody = Callable[[str], dict[str, Any]]


def number(text: str | None, what: str) -> int | None:
    """One of our ids (a location's, an EVSE's, ...) as a partner names it."""
    if text is None:
        return None
    found = row_id(text)
    if found is None:
        raise CommandRefused(f"no such {what}: {text!r}")
    return found


async def _report(
    request: Request,
    partner: CallingPartner,
    checked: PartnerCommand,
    response_url: str,
    result_body: ResultBody,
    version: str,
) -> None:
    runtime = runtime_of(request)
    outcome = await roaming_commands.carry_out(
        request.app.state.gateway, runtime.unit_of_work, checked
    )
    token = await roaming.outgoing_token(partner.partner_id)
    if token is None or runtime.roaming_peers is None:
        return
    try:
        await runtime.roaming_peers.report_result(
            response_url, token, result_body(outcome), version
        )
    except CPMSError as error:
        logger.warning("cannot tell partner %s a command's result: %s", partner.partner_id, error)


async def command(
    request: Request,
    partner: CallingPartner,
    response_url: str,
    check: Callable[[], Awaitable[PartnerCommand]],
    respond: Respond,
    result_body: ResultBody,
    version: str,
) -> Any:
    """Answer a command at once (`check` refuses what cannot be done here), and carry it out
    in the background if it is accepted."""
    runtime = runtime_of(request)
    try:
        runtime.outbound.check_url(response_url, "response_url")
    except InvalidInput as error:
        raise OcpiError(Status.INVALID_PARAMETERS, error.message) from None
    timeout = int(runtime.settings.command_timeout_s) + RESULT_MARGIN_S
    try:
        checked = await check()
    except UnknownSession as error:
        return respond("UNKNOWN_SESSION", 0, error.message)
    except (CommandRefused, UnknownReservation, NotFound) as error:
        return respond("REJECTED", 0, error.message)
    task = asyncio.create_task(
        _report(request, partner, checked, response_url, result_body, version)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return respond("ACCEPTED", timeout, None)
