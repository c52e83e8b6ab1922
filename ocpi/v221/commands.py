"""The commands module as a receiver: `POST {commands}/{command}` is answered at once with a
CommandResponse (ACCEPTED with the seconds the result may take, or why not), and the station's
answer is POSTed to the command's `response_url` as a CommandResult when it comes.

START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR, RESERVE_NOW and CANCEL_RESERVATION are carried
out. The session id of STOP_SESSION is our session's number; a reservation is known by the
partner's own reservation_id."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from app.roaming import commands as roaming_commands
from app.roaming import service as roaming
from app.roaming.commands import PartnerCommand, UnknownSession
from app.roaming.models import CallingPartner
from app.runtime import Runtime
from db.row_ids import row_id
from ocpi import commanding
from ocpi.commanding import number
from ocpi.envelope import OcpiError, Status, json_body, parsed
from ocpi.handling import runtime_of
from ocpi.v221 import tokens
from ocpi.v221.models import (
    VERSION,
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

BODIES: dict[CommandType, type[CommandRequest]] = {
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
}


def _response(result: str, timeout: int, message: str | None) -> Any:
    texts = [DisplayText(language="en", text=message[:512])] if message else []
    answer = CommandResponse(result=CommandResponseType(result), timeout=timeout, message=texts)
    return answer.model_dump(mode="json", exclude_defaults=False)


def _result(outcome: str) -> dict[str, Any]:
    return CommandResult(result=CommandResultType(outcome)).model_dump(mode="json")


async def _checked(
    runtime: Runtime, partner: CallingPartner, kind: CommandType, body: BaseModel
) -> PartnerCommand:
    if isinstance(body, StartSession):
        roaming.check_owner(partner, body.token.country_code, body.token.party_id)
        return await roaming_commands.start_session(
            runtime.unit_of_work,
            partner,
            number(body.location_id, "location") or 0,
            number(body.evse_uid, "EVSE"),
            tokens.as_received(
                partner.partner_id, body.token, body.token.country_code, body.token.party_id
            ),
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
            number(body.location_id, "location") or 0,
            number(body.evse_uid, "EVSE"),
            tokens.as_received(
                partner.partner_id, body.token, body.token.country_code, body.token.party_id
            ),
            parsed_datetime(body.expiry_date),
            body.reservation_id,
            body.authorization_reference,
        )
    if isinstance(body, CancelReservation):
        return await roaming_commands.cancel_reservation(partner, body.reservation_id)
    assert isinstance(body, UnlockConnector)
    return await roaming_commands.unlock_connector(
        partner,
        number(body.location_id, "location") or 0,
        number(body.evse_uid, "EVSE") or 0,
        number(body.connector_id, "connector") or 0,
    )


async def command(request: Request, partner: CallingPartner) -> Any:
    runtime = runtime_of(request)
    try:
        kind = CommandType(request.path_params["command"])
    except ValueError:
        raise OcpiError(Status.CLIENT_ERROR, "no such command", http_status=404) from None
    body = parsed(BODIES[kind], await json_body(request))
    return await commanding.command(
        request,
        partner,
        body.response_url,
        lambda: _checked(runtime, partner, kind, body),
        _response,
        _result,
        VERSION,
    )
