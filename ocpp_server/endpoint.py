"""The `/ocpp/{identity}` websocket: negotiate, authenticate, then serve the station's frames.

Frames are checked here before the `ocpp` library sees them: the library drops a frame it
cannot parse without answering, and a charger waiting for that answer would stall."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Any

from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    OCPPError,
)
from ocpp.messages import Call, CallError, CallResult, unpack
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.utils import ClientDisconnected

from app import metrics
from app.runtime import Runtime
from app.sanitize import may_hold_unstorable, storable_json
from app.stations import registration
from app.stations import service as stations
from app.stations.certificates import certificate_common_name
from app.stations.models import StationRecord
from app.tls import client_certificate
from db.engine import unreachable
from ocpp_server.link import StationLink
from ocpp_server.server import LiveConnection, OcppServer
from ocpp_server.subprotocols import OCPP16, OCPP201, choose_subprotocol
from ocpp_server.v16.charge_point import ChargePoint16
from ocpp_server.v201.charge_point import ChargePoint201

logger = logging.getLogger(__name__)

# RFC 6455 "policy violation": sent as HTTP 403 when refused before the upgrade.
POLICY_VIOLATION = 1008
ABNORMAL_CLOSURE = 1006
TRY_AGAIN_LATER = 1013  # before the handshake is answered, uvicorn turns any close into a 403
MAX_IDENTITY_LENGTH = 48  # OCPP 2.0.1 identity is at most 48 characters
MAX_FRAME_CHARS = 1_048_576
# Deeper than any OCPP message (vendor data included, in practice): deeper nesting only costs
# recursion further on.
MAX_FRAME_DEPTH = 32
UNKNOWN_MESSAGE_ID = "-1"
UNAVAILABLE_RETRY_AFTER_S = 30


def call_error_frame(message_id: str, error: OCPPError) -> str:
    """A CALLERROR frame for the given exception."""
    return json.dumps(
        [4, message_id, error.code, error.description or "", error.details or {}],
        separators=(",", ":"),
    )


def call_action(text: str) -> str | None:
    """The action of a well-formed CALL frame; None for an answer or an error."""
    message = unpack(text)
    return message.action if isinstance(message, Call) else None


def framing_error(protocol: str, text: str) -> str | None:
    """A CALLERROR for a frame that is not OCPP-J, or None for a well-formed frame."""
    if len(text) > MAX_FRAME_CHARS:
        error: OCPPError = FormatViolationError(
            description=f"frame longer than {MAX_FRAME_CHARS} characters", details={}
        )
    else:
        try:
            message = unpack(text)
            # Cannot nest deeper than it has brackets: most frames skip the walk.
            brackets = text.count("[") + text.count("{")
            if brackets <= MAX_FRAME_DEPTH or _nesting_depth(_body(message)) <= MAX_FRAME_DEPTH:
                return None
            error = FormatViolationError(
                description=f"frame nested deeper than {MAX_FRAME_DEPTH} levels", details={}
            )
        except OCPPError as unpack_error:
            error = unpack_error
        except RecursionError:  # the JSON decoder's own limit, far deeper than ours
            error = FormatViolationError(
                description=f"frame nested deeper than {MAX_FRAME_DEPTH} levels", details={}
            )
    # 1.6 names it FormationViolation (sic), 2.0.1 FormatViolation; the library has both.
    if protocol == OCPP16 and isinstance(error, FormatViolationError):
        error = FormationViolationError(description=error.description, details=error.details)
    return call_error_frame(UNKNOWN_MESSAGE_ID, error)


def storable_frame(text: str) -> str:
    """A well-formed frame whose strings hold only what a database can store: NUL and unpaired
    surrogates become U+FFFD, as in every other text from chargers. Firmware that pads its
    strings with NULs keeps working instead of failing on every write; an identifier carrying
    one matches nothing registered. Frames without such an escape (nearly all) are returned
    as they are, unparsed."""
    if not may_hold_unstorable(text):
        return text
    cleaned = storable_json(json.loads(text))  # framing_error has bounded its depth
    return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))


def _body(message: Call | CallResult | CallError) -> Any:
    return message.error_details if isinstance(message, CallError) else message.payload


def _nesting_depth(value: Any) -> int:
    """How deeply a parsed JSON value's lists and objects nest, walked without recursion: the
    work is one step per list or object, nothing for a frame's scalars."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current
        deepest = max(deepest, depth)
        if deepest > MAX_FRAME_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def basic_auth_password(websocket: WebSocket, identity: str) -> str | None:
    """The password of `Authorization: Basic base64(identity:password)`, if sent for us."""
    header = websocket.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password if username == identity else None


def _certificate_name(websocket: WebSocket) -> str | None:
    """The common name of the client certificate the TLS handshake verified, if any."""
    certificate = client_certificate(websocket.scope)
    return certificate_common_name(certificate) if certificate else None


class _Connection:
    """The `ocpp` library's view of the websocket: sends go out and into the message log."""

    def __init__(self, websocket: WebSocket, server: OcppServer, station_id: int, identity: str):
        self._websocket = websocket
        self._server = server
        self._station_id = station_id
        self._identity = identity

    async def send(self, frame: str) -> None:
        self._server.message_log.record(self._station_id, self._identity, "out", frame)
        try:
            await self._websocket.send_text(frame)
        except RuntimeError:  # closed meanwhile (replaced by a newer connection, or lost)
            raise WebSocketDisconnect(code=ABNORMAL_CLOSURE) from None

    async def recv(self) -> str:  # the receive loop is ours
        raise NotImplementedError


async def _negotiate(websocket: WebSocket, identity: str) -> str | None:
    offered = websocket.scope.get("subprotocols", [])
    if offered:
        return choose_subprotocol(offered)
    # Some chargers send no Sec-WebSocket-Protocol: allowed when configured per station.
    record = await stations.get_station_record(identity)
    if record is not None and record.assumed_protocol in (OCPP16, OCPP201):
        return record.assumed_protocol
    return None


async def _admit(
    websocket: WebSocket, runtime: Runtime, server: OcppServer, identity: str
) -> tuple[StationRecord, str] | None:
    """Answer the handshake: the station and the protocol when it may stay, None (and the
    websocket refused) otherwise."""
    async with server.admission.turn() as our_turn:
        if not our_turn:
            metrics.OCPP_CONNECTIONS_DEFERRED.inc()
            await websocket.close(code=TRY_AGAIN_LATER)
            return None
        protocol = await _negotiate(websocket, identity)
        if protocol is None:
            logger.warning("refused %s: no supported OCPP subprotocol", identity)
            await websocket.close(code=POLICY_VIOLATION)
            return None
        admission = await registration.admit_connection(
            runtime.unit_of_work(),
            runtime.attempts,
            identity=identity,
            password=basic_auth_password(websocket, identity),
            tls=websocket.url.scheme == "wss",
            certificate_name=_certificate_name(websocket),
            protocol=protocol,
            node_id=runtime.settings.node_id,
            registration_organization=runtime.settings.registration_organization,
            address=websocket.client.host if websocket.client is not None else None,
        )
        if admission.retry_after_s is not None:
            await _deny(
                websocket,
                429,
                "too many failed attempts: retry later",
                admission.retry_after_s,
            )
            return None
        if admission.station is None:
            await websocket.close(code=POLICY_VIOLATION)
            return None
        offered_any = bool(websocket.scope.get("subprotocols"))
        try:
            await websocket.accept(subprotocol=protocol if offered_any else None)
        except (ClientDisconnected, WebSocketDisconnect):
            # Gone before it heard the answer: recorded as connected a moment ago, it is not.
            await server.disconnects.record(admission.station)
            return None
        return admission.station, protocol


async def _deny(websocket: WebSocket, status: int, text: str, retry_after_s: int) -> None:
    """An HTTP answer with Retry-After to a handshake we will not serve now; a server without
    denial responses turns the close into a 403 instead."""
    answer = PlainTextResponse(
        text, status_code=status, headers={"Retry-After": str(retry_after_s)}
    )
    try:
        await websocket.send_denial_response(answer)
    except RuntimeError:
        await websocket.close(code=TRY_AGAIN_LATER)


async def ocpp_websocket(websocket: WebSocket) -> None:
    """Serve one station's websocket."""
    runtime: Runtime = websocket.app.state.runtime
    server: OcppServer = websocket.app.state.ocpp
    # Decoded once already, by the server (ASGI paths are): decoding again would let
    # `%2541` name station `A`.
    identity = websocket.path_params["identity"]
    if not identity or len(identity) > MAX_IDENTITY_LENGTH or not identity.isprintable():
        await websocket.close(code=POLICY_VIOLATION)
        return
    async with server.presence_turn(identity):
        try:
            admitted = await _admit(websocket, runtime, server, identity)
        except (ClientDisconnected, WebSocketDisconnect):
            # The station gave up during the handshake (a reconnect storm's impatient ones):
            # nothing to answer, and not the database's doing.
            return
        except Exception as failure:
            if not unreachable(failure):
                raise
            logger.warning(
                "refused %s for now: the database is unreachable (%s)", identity, failure
            )
            await _deny(
                websocket,
                503,
                "the database is unavailable: retry later",
                UNAVAILABLE_RETRY_AFTER_S,
            )
            return
        if admitted is None:
            return
        station, protocol = admitted
        link = StationLink(station=station, runtime=runtime, protocol=protocol)
        connection = _Connection(websocket, server, station.id, identity)
        charge_point = (ChargePoint201 if protocol == OCPP201 else ChargePoint16)(link, connection)
        live = LiveConnection(websocket, link, charge_point)
        previous = server.take_over(identity, live)
    metrics.OCPP_CONNECTIONS.labels(protocol=protocol).inc()
    throttle = server.frame_budgets.take(identity)
    try:
        # Inside the try: whatever happens from here on, the station is detached again.
        await server.settle_take_over(identity, previous)
        while True:
            await throttle.admit()
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            # OCPP-J is text only; a binary frame is answered as malformed, not dropped.
            text = message.get("text") or (message.get("bytes") or b"").decode(errors="replace")
            metrics.OCPP_FRAMES_RECEIVED.labels(protocol=protocol).inc()
            server.message_log.record(station.id, identity, "in", text)
            server.presence.heard(station.id)
            error = framing_error(protocol, text)
            if error is not None:
                await connection.send(error)
                continue
            if link.undecided:  # its first call tells whether it boots or runs
                link.first_frame(call_action(text))
            await charge_point.route_message(storable_frame(text))
    except WebSocketDisconnect:
        pass
    finally:
        live.closed.set()
        server.frame_budgets.give_back(identity)
        metrics.OCPP_CONNECTIONS.labels(protocol=protocol).dec()
        try:
            async with server.presence_turn(identity):
                if await server.detach(identity, websocket):
                    server.presence.forget(station.id)
                    await server.disconnects.record(station)
        except asyncio.CancelledError:
            # Cut short by the node's shutdown (thousands of stations had left at once): the
            # node's `stop` marks every station it still holds offline, this one included.
            if not server.draining:
                raise
