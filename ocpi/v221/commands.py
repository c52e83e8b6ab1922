"""The commands module as a receiver: `POST {commands}/{command}` is answered at once with a
CommandResponse (ACCEPTED with the seconds the result may take, or why not), and the station's
answer is POSTed to the command's `response_url` as a CommandResult when it comes.

START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR, RESERVE_NOW and CANCEL_RESERVATION are carried
out. The session id of STOP_SESSION is our session's number; a reservation is known by the
partner's own reservation_id."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from app.errors import CPMSError, InvalidInput, NotFound
from app.roaming import commands as roaming_commands
from app.roaming import service as roaming
from app.roaming.commands import (
    CommandRefused,
    PartnerCommand,
    UnknownReservation,
    UnknownSession,
)
from app.roaming.models import CallingPartner
from app.runtime import Runtime
from db.row_ids import row_id
from ocpi.envelope import OcpiError, Status, json_body, parsed
from ocpi.v221 import tokens
from ocpi.v221.models import (
    CancelReservation,
    CommandRequest,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    DisplayText,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
    parsed_datetime,
)

logger = logging.getLogger(__name__)

BODIES: dict[CommandType, type[CommandRequest]] = {
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
}
# Beyond the station's own time to answer: routing to the node that holds it.
RESULT_MARGIN_S = 10
# Results being sent, kept referenced until they are.
_pending: set[asyncio.Task[None]] = set()


def _response(result: CommandResponseType, timeout: int, message: str | None = None) -> Any:
    texts = [DisplayText(language="en", text=message[:512])] if message else []
    answer = CommandResponse(result=result, timeout=timeout, message=texts)
    return answer.model_dump(mode="json", exclude_defaults=False)


def _number(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    number = row_id(text)
    if number is None:
        raise CommandRefused(f"no such {what}: {text!r}")
    return number


async def _checked(
    runtime: Runtime, partner: CallingPartner, kind: CommandType, body: BaseModel
) -> PartnerCommand:
    if isinstance(body, StartSession):
        roaming.check_owner(partner, body.token.country_code, body.token.party_id)
        return await roaming_commands.start_session(
            runtime.unit_of_work,
            partner,
            _number(body.location_id, "location") or 0,
            _number(body.evse_uid, "EVSE"),
            tokens.as_received(partner, body.token, body.token.country_code, body.token.party_id),
            body.authorization_reference,
        )
    if isinstance(body, StopSession):
        session_id = row_id(body.session_id)
        if session_id is None:
            raise UnknownSession(f"no session {body.session_id!r}")
        return await roaming_commands.stop_session(partner, session_id)
    if isinstance(body, ReserveNow):
        roaming.check_owner(partner, body.token.country_code, body.token.party_id)
        return await roaming_commands.reserve_now(
            runtime.unit_of_work,
            partner,
            _number(body.location_id, "location") or 0,
            _number(body.evse_uid, "EVSE"),
            tokens.as_received(partner, body.token, body.token.country_code, body.token.party_id),
            parsed_datetime(body.expiry_date),
            body.reservation_id,
            body.authorization_reference,
        )
    if isinstance(body, CancelReservation):
        return await roaming_commands.cancel_reservation(partner, body.reservation_id)
    assert isinstance(body, UnlockConnector)
    return await roaming_commands.unlock_connector(
        partner,
        _number(body.location_id, "location") or 0,
        _number(body.evse_uid, "EVSE") or 0,
        _number(body.connector_id, "connector") or 0,
    )


async def _report(
    request: Request, partner: CallingPartner, checked: PartnerCommand, response_url: str
) -> None:
    runtime: Runtime = request.app.state.runtime
    outcome = await roaming_commands.carry_out(
        request.app.state.gateway, runtime.unit_of_work, checked
    )
    token = await roaming.outgoing_token(partner.partner_id)
    if token is None or runtime.roaming_peers is None:
        return
    try:
        result = CommandResult(result=CommandResultType(outcome))
        await runtime.roaming_peers.report_result(
            response_url, token, result.model_dump(mode="json")
        )
    except CPMSError as error:
        logger.warning("cannot tell partner %s a command's result: %s", partner.partner_id, error)


async def command(request: Request, partner: CallingPartner) -> Any:
    runtime: Runtime = request.app.state.runtime
    try:
        kind = CommandType(request.path_params["command"])
    except ValueError:
        raise OcpiError(Status.CLIENT_ERROR, "no such command", http_status=404) from None
    body = parsed(BODIES[kind], await json_body(request))
    response_url = body.response_url
    try:
        runtime.outbound.check_url(response_url, "response_url")
    except InvalidInput as error:
        raise OcpiError(Status.INVALID_PARAMETERS, error.message) from None
    timeout = int(runtime.settings.command_timeout_s) + RESULT_MARGIN_S
    try:
        checked = await _checked(runtime, partner, kind, body)
    except UnknownSession as error:
        return _response(CommandResponseType.UNKNOWN_SESSION, 0, error.message)
    except (CommandRefused, UnknownReservation, NotFound) as error:
        return _response(CommandResponseType.REJECTED, 0, error.message)
    task = asyncio.create_task(_report(request, partner, checked, response_url))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return _response(CommandResponseType.ACCEPTED, timeout)
