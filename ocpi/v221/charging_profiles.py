"""The chargingprofiles module as a receiver, for a partner's own running sessions:
`PUT {chargingprofiles}/{session_id}` sets its limit on the session, `GET …?duration=` asks
for the limits in force there, `DELETE` removes its limit. Each is answered at once with a
ChargingProfileResponse (ACCEPTED with the seconds the result may take, UNKNOWN_SESSION, or
REJECTED when the station is offline), and the station's answer is POSTed to `response_url`
as a ChargingProfileResult, an ActiveChargingProfileResult or a ClearProfileResult."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from app.errors import CPMSError, InvalidInput
from app.roaming import charging_profiles as profiles
from app.roaming import service as roaming
from app.roaming.charging_profiles import ActiveLimit, ProfileOrder, SessionLimit
from app.roaming.commands import CommandRefused, UnknownSession
from app.roaming.models import CallingPartner
from app.runtime import Runtime
from db.row_ids import row_id
from ocpi.envelope import OcpiError, Status, json_body, parsed
from ocpi.v221.models import (
    VERSION,
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingProfileResponse,
    ChargingProfileResponseType,
    ChargingProfileResult,
    ChargingProfileResultType,
    ChargingRateUnit,
    SetChargingProfile,
    ocpi_datetime,
    parsed_datetime,
)

logger = logging.getLogger(__name__)

# Beyond the station's own time to answer: routing to the node that holds it.
RESULT_MARGIN_S = 10
# Results being sent, kept referenced until they are.
_pending: set[asyncio.Task[None]] = set()


def _response(result: ChargingProfileResponseType, timeout: int = 0) -> Any:
    return ChargingProfileResponse(result=result, timeout=timeout).model_dump(mode="json")


def limit_of(profile: ChargingProfile) -> SessionLimit:
    return SessionLimit(
        unit=profile.charging_rate_unit.value,
        periods=tuple((each.start_period, each.limit) for each in profile.charging_profile_period),
        start=parsed_datetime(profile.start_date_time) if profile.start_date_time else None,
        duration_s=profile.duration,
        min_rate=profile.min_charging_rate,
    )


def active_profile(active: ActiveLimit) -> ActiveChargingProfile:
    return ActiveChargingProfile(
        start_date_time=ocpi_datetime(active.start),
        charging_profile=ChargingProfile(
            start_date_time=ocpi_datetime(active.start),
            duration=active.duration_s,
            charging_rate_unit=ChargingRateUnit(active.unit),
            charging_profile_period=[
                ChargingProfilePeriod(start_period=start, limit=limit)
                for start, limit in active.periods
            ],
        ),
    )


def _query_number(request: Request, name: str) -> int:
    text = request.query_params.get(name)
    if text is None or not text.isdigit() or int(text) <= 0:
        raise OcpiError(Status.INVALID_PARAMETERS, f"{name}: a positive number of seconds")
    return int(text)


async def charging_profile(request: Request, partner: CallingPartner) -> Any:
    runtime: Runtime = request.app.state.runtime
    order_of: Callable[[int], Awaitable[ProfileOrder]]
    if request.method == "PUT":
        body = parsed(SetChargingProfile, await json_body(request))
        response_url = body.response_url
        limit = limit_of(body.charging_profile)

        def order_of(session_id: int) -> Awaitable[ProfileOrder]:
            return profiles.set_limit(partner, session_id, limit)
    else:
        response_url = request.query_params.get("response_url") or ""
        if request.method == "GET":
            duration_s = _query_number(request, "duration")

            def order_of(session_id: int) -> Awaitable[ProfileOrder]:
                return profiles.read_limit(partner, session_id, duration_s)
        else:

            def order_of(session_id: int) -> Awaitable[ProfileOrder]:
                return profiles.clear_limit(partner, session_id)

    try:
        runtime.outbound.check_url(response_url, "response_url")
    except InvalidInput as error:
        raise OcpiError(Status.INVALID_PARAMETERS, error.message) from None
    session_id = row_id(request.path_params["session_id"])
    try:
        if session_id is None:
            raise UnknownSession("no such session")
        order = await order_of(session_id)
    except UnknownSession:
        return _response(ChargingProfileResponseType.UNKNOWN_SESSION)
    except CommandRefused:
        return _response(ChargingProfileResponseType.REJECTED)
    except InvalidInput as error:
        raise OcpiError(Status.INVALID_PARAMETERS, error.message) from None
    task = asyncio.create_task(_report(request, partner, order, response_url))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    timeout = int(runtime.settings.command_timeout_s) + RESULT_MARGIN_S
    return _response(ChargingProfileResponseType.ACCEPTED, timeout)


async def _report(
    request: Request, partner: CallingPartner, order: ProfileOrder, response_url: str
) -> None:
    runtime: Runtime = request.app.state.runtime
    outcome, active = await profiles.carry_out(
        request.app.state.gateway, runtime.unit_of_work, order
    )
    result = ChargingProfileResultType(outcome)
    body = (
        ActiveChargingProfileResult(
            result=result, profile=active_profile(active) if active else None
        ).model_dump(mode="json", exclude_none=True)
        if request.method == "GET"
        else ChargingProfileResult(result=result).model_dump(mode="json")
    )
    token = await roaming.outgoing_token(partner.partner_id)
    if token is None or runtime.roaming_peers is None:
        return
    try:
        await runtime.roaming_peers.report_result(response_url, token, body, VERSION)
    except CPMSError as error:
        logger.warning(
            "cannot tell partner %s a charging profile's result: %s", partner.partner_id, error
        )
