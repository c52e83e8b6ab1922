"""NUL and unpaired surrogates inside a station's strings (as JSON escapes, the only way they
arrive): every message is answered as usual, the connection stays up, and what is stored
holds U+FFFD where they were. On PostgreSQL a NUL used to fail the write ("Unexpected
error."), and either database refused a lone surrogate."""

import json
import uuid

from db.tables import ChargingSession, ChargingStation, Connector
from ocpp_server.endpoint import storable_frame
from tests.ocpp_server.test_endpoint import open_station

NUL = "\\u0000"
LONE_HIGH = "\\ud800"
LONE_LOW = "\\udfff"
FFFD = "\ufffd"


async def exchange(websocket, message_id: str, action: str, payload: str) -> list:
    """Send a CALL written by hand (json.dumps would not write a lone surrogate) and read its
    answer."""
    await websocket.send(f'[2,"{message_id}","{action}",{payload}]')
    reply = json.loads(await websocket.recv())
    assert reply[1] == message_id
    return reply


def answered(reply: list) -> dict:
    assert reply[0] == 3, f"answered with an error: {reply}"
    return reply[2]


async def test_a_16_station_sending_nul_and_lone_surrogates_is_served_and_stored(
    live_server, register
):
    identity = f"CP-NUL16-{uuid.uuid4().hex[:6]}"
    await register(identity)
    async with await open_station(live_server, identity, "ocpp1.6") as websocket:
        boot = await exchange(
            websocket,
            "b",
            "BootNotification",
            f'{{"chargePointVendor":"ACME{NUL}{NUL}","chargePointModel":"X{LONE_HIGH}",'
            f'"firmwareVersion":"1.0{NUL}","chargePointSerialNumber":"{LONE_LOW}S"}}',
        )
        assert answered(boot)["status"] == "Accepted"
        status = await exchange(
            websocket,
            "s",
            "StatusNotification",
            f'{{"connectorId":1,"errorCode":"OtherError","status":"Faulted",'
            f'"info":"hot{NUL}","vendorErrorCode":"E{LONE_HIGH}1"}}',
        )
        answered(status)
        authorize = await exchange(websocket, "a", "Authorize", f'{{"idTag":"TAG{NUL}"}}')
        assert answered(authorize)["idTagInfo"]["status"] == "Invalid"  # matches no card
        transfer = await exchange(
            websocket,
            "d",
            "DataTransfer",
            f'{{"vendorId":"V{NUL}","messageId":"m{LONE_LOW}","data":"{LONE_HIGH}"}}',
        )
        assert answered(transfer)["status"] in ("Accepted", "Rejected", "UnknownVendorId")
        heartbeat = await exchange(websocket, "h", "Heartbeat", "{}")
        assert "currentTime" in answered(heartbeat)

    station = await ChargingStation.select().where(ChargingStation.identity == identity).first()
    assert (station["vendor"], station["model"], station["firmware_version"]) == (
        f"ACME{FFFD}{FFFD}",
        f"X{FFFD}",
        f"1.0{FFFD}",
    )
    assert station["serial_number"] == f"{FFFD}S"
    connector = await Connector.select().where(Connector.station == station["id"]).first()
    assert (connector["status"], connector["info"], connector["vendor_error_code"]) == (
        "Faulted",
        f"hot{FFFD}",
        f"E{FFFD}1",
    )


async def test_a_201_transaction_whose_id_holds_a_nul_is_one_session_kept_whole(
    live_server, register
):
    identity = f"CP-NUL201-{uuid.uuid4().hex[:6]}"
    await register(identity)
    transaction = f'"transactionInfo":{{"transactionId":"T{NUL}{LONE_HIGH}"}}'
    async with await open_station(live_server, identity, "ocpp2.0.1") as websocket:
        boot = await exchange(
            websocket,
            "b",
            "BootNotification",
            f'{{"reason":"PowerUp","chargingStation":{{"vendorName":"V{NUL}","model":"M"}}}}',
        )
        assert answered(boot)["status"] == "Accepted"
        for seq_no, (event_type, wh) in enumerate(
            [("Started", 100), ("Updated", 600), ("Ended", 1100)]
        ):
            reply = await exchange(
                websocket,
                f"t{seq_no}",
                "TransactionEvent",
                f'{{"eventType":"{event_type}","timestamp":"2026-11-23T10:{seq_no}0:00Z",'
                f'"triggerReason":"MeterValuePeriodic","seqNo":{seq_no},{transaction},'
                f'"evse":{{"id":1,"connectorId":1}},'
                f'"idToken":{{"idToken":"{LONE_LOW}","type":"ISO14443"}},'
                f'"meterValue":[{{"timestamp":"2026-11-23T10:{seq_no}0:00Z",'
                f'"sampledValue":[{{"value":{wh}}}]}}]}}',
            )
            answered(reply)
        heartbeat = await exchange(websocket, "h", "Heartbeat", "{}")
        assert "currentTime" in answered(heartbeat)

    station = await ChargingStation.select().where(ChargingStation.identity == identity).first()
    assert station["vendor"] == f"V{FFFD}"
    sessions = await ChargingSession.select().where(ChargingSession.station == station["id"])
    assert len(sessions) == 1
    assert sessions[0]["transaction_id"] == f"T{FFFD}{FFFD}"
    assert (sessions[0]["state"], sessions[0]["energy_wh"]) == ("completed", 1000)


def test_only_frames_with_such_an_escape_are_rewritten():
    plain = '[2,"m","DataTransfer",{"vendorId":"v","data":"1.0E3 \\\\u0000 \\ud83d\\ude00"}]'
    # An escaped backslash before "u0000" and a valid surrogate pair are text like any other.
    assert json.loads(storable_frame(plain)) == json.loads(plain)
    untouched = '[2,"m","Heartbeat",{}]'
    assert storable_frame(untouched) is untouched
