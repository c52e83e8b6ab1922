"""The commands module as a receiver, in 2.1.1: START_SESSION, STOP_SESSION, RESERVE_NOW and
UNLOCK_CONNECTOR through the same command service as 2.2.1's (`ocpi.v221.commands`), with
2.1.1's CommandResponse both as the immediate answer and as the result POSTed to the
`response_url` (2.1.1 has no CANCEL_RESERVATION, and no CommandResult of its own).

A 2.1.1 Token names no party: the token of a command is the calling partner's own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from app.roaming import commands as roaming_commands
from app.roaming.commands import Outcome, PartnerCommand, UnknownSession
from app.roaming.models import CallingPartner
from db.row_ids import row_id
from ocpi import commanding
from ocpi.commanding import number
from ocpi.envelope import OcpiError, Status, json_body, parsed
from ocpi.handling import runtime_of
from ocpi.v211 import tokens
from ocpi.v211.models import (
    VERSION,
    CommandResponse,
    CommandResponseType,
    CommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
    parsed_datetime,
)
from ocpi.v221.models import CommandRequest

BODIES: dict[CommandType, type[CommandRequest]] = {
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
    CommandType.RESERVE_NOW: ReserveNow,
}
# How an outcome reads in 2.1.1's fewer words: what is neither done nor timed out was refused.
_RESULTS = {
    Outcome.ACCEPTED: CommandResponseType.ACCEPTED,
    Outcome.TIMEOUT: CommandResponseType.TIMEOUT,
    Outcome.NOT_SUPPORTED: CommandResponseType.NOT_SUPPORTED,
}


def _response(result: str, timeout: int, message: str | None) -> Any:
    """2.1.1's answer has no timeout and no message."""
    return CommandResponse(result=CommandResponseType(result)).model_dump(mode="json")


def _result(outcome: str) -> dict[str, Any]:
    result = _RESULTS.get(outcome, CommandResponseType.REJECTED)
    return CommandResponse(result=result).model_dump(mode="json")


async def _checked(request: Request, partner: CallingPartner, body: BaseModel) -> PartnerCommand:
    unit_of_work = runtime_of(request).unit_of_work
    country, party = partner.country_code, partner.party_id
    if isinstance(body, StartSession):
        return await roaming_commands.start_session(
            unit_of_work,
            partner,
            number(body.location_id, "location") or 0,
            number(body.evse_uid, "EVSE"),
            tokens.as_received(partner.partner_id, body.token, country, party),
            None,
        )
    if isinstance(body, StopSession):
        session_id = row_id(body.session_id)
        if session_id is None:
            raise UnknownSession(f"no session {body.session_id!r}")
        return await roaming_commands.stop_session(partner, session_id)
    if isinstance(body, ReserveNow):
        return await roaming_commands.reserve_now(
            unit_of_work,
            partner,
            number(body.location_id, "location") or 0,
            number(body.evse_uid, "EVSE"),
            tokens.as_received(partner.partner_id, body.token, country, party),
            parsed_datetime(body.expiry_date),
            str(body.reservation_id),
            None,
        )
    assert isinstance(body, UnlockConnector)
    return await roaming_commands.unlock_connector(
        partner,
        number(body.location_id, "location") or 0,
        number(body.evse_uid, "EVSE") or 0,
        number(body.connector_id, "connector") or 0,
    )


async def command(request: Request, partner: CallingPartner) -> Any:
    try:
        kind = CommandType(request.path_params["command"])
    except ValueError:
        raise OcpiError(Status.CLIENT_ERROR, "no such command", http_status=404) from None
    body = parsed(BODIES[kind], await json_body(request))
    return await commanding.command(
        request,
        partner,
        body.response_url,
        lambda: _checked(request, partner, body),
        _response,
        _result,
        VERSION,
    )
