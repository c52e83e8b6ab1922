import asyncio
import json

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from ocpp_server.subprotocols import choose_subprotocol


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp1.6"], "ocpp1.6"),
        (["OCPP1.6"], "ocpp1.6"),
        (["ocpp1.5", "ocpp2.1"], None),
        ([], None),
    ],
)
def test_newest_common_subprotocol_is_chosen(offered, chosen):
    assert choose_subprotocol(offered) == chosen


async def open_station(server, identity: str, *protocols: str):
    # No protocols: send no Sec-WebSocket-Protocol header at all, like some chargers do.
    offered = [Subprotocol(protocol) for protocol in protocols] or None
    return connect(f"{server.ws}/ocpp/{identity}", subprotocols=offered)


@pytest.mark.parametrize(
    ("offered", "expected"),
    [(["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"), (["ocpp1.6"], "ocpp1.6")],
)
async def test_server_negotiates_subprotocol(live_server, offered, expected):
    async with await open_station(live_server, "CP-NEGOTIATE", *offered) as websocket:
        assert websocket.subprotocol == expected


async def test_connection_without_known_subprotocol_is_refused(live_server):
    with pytest.raises(InvalidStatus) as refused:
        async with await open_station(live_server, "CP-NO-PROTOCOL"):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with await open_station(live_server, "CP-OLD", "ocpp1.5"):
            pass


async def test_unhandled_call_gets_not_implemented_and_malformed_frames_keep_the_connection(
    live_server,
):
    async with await open_station(live_server, "CP-RAW", "ocpp1.6") as websocket:
        await websocket.send("this is not json")
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "FormationViolation"]
        await websocket.send(json.dumps({"not": "a list"}))
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "ProtocolError"]
        await websocket.send(b"\x00binary")
        assert json.loads(await websocket.recv())[2] == "FormationViolation"
        # Still up: a well-formed CALL is answered with its own message id.
        await websocket.send(json.dumps([2, "m-1", "Heartbeat", {}]))
        assert json.loads(await websocket.recv())[:3] == [4, "m-1", "NotImplemented"]
        # A CALLRESULT needs no answer; the next CALL is still answered.
        await websocket.send(json.dumps([3, "ours-1", {}]))
        await websocket.send(json.dumps([2, "m-2", "Heartbeat", {}]))
        assert json.loads(await websocket.recv())[:2] == [4, "m-2"]


async def test_ocpp201_framing_error_uses_its_own_code(live_server):
    async with await open_station(live_server, "CP-RAW-201", "ocpp2.0.1") as websocket:
        await websocket.send("{broken")
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "FormatViolation"]


async def run_client(charge_point, websocket, request):
    listener = asyncio.create_task(charge_point.start())
    try:
        return await charge_point.call(request, suppress=False)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


async def test_real_ocpp16_client_gets_a_call_error(live_server):
    async with await open_station(live_server, "CP-LIB-16", "ocpp1.6") as websocket:
        charge_point = ChargePoint16("CP-LIB-16", websocket)
        request = call16.BootNotification(charge_point_vendor="ACME", charge_point_model="X1")
        with pytest.raises(OcppNotImplementedError):
            await run_client(charge_point, websocket, request)


async def test_real_ocpp201_client_gets_a_call_error(live_server):
    async with await open_station(live_server, "CP-LIB-201", "ocpp2.0.1") as websocket:
        charge_point = ChargePoint201("CP-LIB-201", websocket)
        for _ in range(2):  # the error leaves the connection usable
            with pytest.raises(OcppNotImplementedError):
                await run_client(charge_point, websocket, call201.Heartbeat())
