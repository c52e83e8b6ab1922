"""The `/ocpp/{identity}` websocket: negotiate the subprotocol, track presence, answer frames.

Message handling per version (ocpp_server/v16, ocpp_server/v201) plugs in here; until a version
handles an action, every CALL gets a NotImplemented CallError so a charger is never left
waiting, and a malformed frame gets the version's framing error while the connection stays up.
"""

from __future__ import annotations

import json
import logging

from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    OCPPError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplementedError,
)
from ocpp.messages import Call, pack, unpack
from starlette.websockets import WebSocket, WebSocketDisconnect

from app import metrics
from app.events import StationConnectionChanged
from app.runtime import Runtime
from ocpp_server.subprotocols import OCPP16, choose_subprotocol

logger = logging.getLogger(__name__)

# RFC 6455 close code for "no acceptable subprotocol"; sent as HTTP 403 before the upgrade.
POLICY_VIOLATION = 1008
MAX_IDENTITY_LENGTH = 48  # OCPP 2.0.1 identity is at most 48 characters
UNKNOWN_MESSAGE_ID = "-1"


def call_error_frame(message_id: str, error: OCPPError) -> str:
    """A CALLERROR frame for the given exception."""
    return json.dumps(
        [4, message_id, error.code, error.description or "", error.details or {}],
        separators=(",", ":"),
    )


def _framing_error(protocol: str, error: OCPPError) -> OCPPError:
    # 1.6 names it FormationViolation (sic), 2.0.1 FormatViolation; the library only has one.
    if protocol == OCPP16 and isinstance(error, FormatViolationError):
        return FormationViolationError(description=error.description, details=error.details)
    return error


def answer(protocol: str, text: str) -> str | None:
    """The reply to one received frame, or None when the frame needs none."""
    try:
        message = unpack(text)
    except OCPPError as error:
        return call_error_frame(UNKNOWN_MESSAGE_ID, _framing_error(protocol, error))
    if isinstance(message, Call):
        not_implemented = OcppNotImplementedError(
            description=f"{message.action} is not implemented", details={}
        )
        return pack(message.create_call_error(not_implemented))
    return None  # a CALLRESULT or CALLERROR to a command of ours


async def ocpp_websocket(websocket: WebSocket) -> None:
    """Serve one charger's websocket."""
    runtime: Runtime = websocket.app.state.runtime
    identity = websocket.path_params["identity"]
    protocol = choose_subprotocol(websocket.scope.get("subprotocols", []))
    if protocol is None or not identity or len(identity) > MAX_IDENTITY_LENGTH:
        logger.warning(
            "refused OCPP connection",
            extra={"identity": identity, "offered": websocket.scope.get("subprotocols", [])},
        )
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept(subprotocol=protocol)
    await _presence(runtime, identity, protocol, connected=True)
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            # OCPP-J is text only; a binary frame is answered as malformed, not dropped.
            text = frame.get("text") or (frame.get("bytes") or b"").decode(errors="replace")
            metrics.OCPP_FRAMES_RECEIVED.labels(protocol=protocol).inc()
            reply = answer(protocol, text)
            if reply is not None:
                await websocket.send_text(reply)
    except WebSocketDisconnect:
        pass
    finally:
        await _presence(runtime, identity, protocol, connected=False)


async def _presence(runtime: Runtime, identity: str, protocol: str, *, connected: bool) -> None:
    metrics.OCPP_CONNECTIONS.labels(protocol=protocol).inc(1 if connected else -1)
    logger.info(
        "station connected" if connected else "station disconnected",
        extra={"identity": identity, "protocol": protocol},
    )
    event = StationConnectionChanged(
        identity=identity,
        connected=connected,
        protocol=protocol,
        node_id=runtime.settings.node_id,
    )
    await runtime.bus.publish(event)
