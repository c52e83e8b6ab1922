import asyncio
import json

import pytest
from ocpp.v16 import call as call16
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from db.tables import ChargingStation, Organization, SecurityEvent
from ocpp_server.endpoint import MAX_FRAME_CHARS, MAX_FRAME_DEPTH, framing_error
from ocpp_server.subprotocols import choose_subprotocol
from tests.conftest import REGISTRY_ORGANIZATION

BOOT_16 = {"chargePointVendor": "ACME", "chargePointModel": "X1"}


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
async def test_server_negotiates_subprotocol(live_server, register, offered, expected):
    await register("CP-NEGOTIATE")
    async with await open_station(live_server, "CP-NEGOTIATE", *offered) as websocket:
        assert websocket.subprotocol == expected


async def test_connection_without_known_subprotocol_is_refused(live_server, register):
    await register("CP-NO-PROTOCOL")
    await register("CP-OLD")
    with pytest.raises(InvalidStatus) as refused:
        async with await open_station(live_server, "CP-NO-PROTOCOL"):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with await open_station(live_server, "CP-OLD", "ocpp1.5"):
            pass


async def test_malformed_frames_get_call_errors_and_keep_the_connection(live_server, register):
    await register("CP-RAW")
    async with await open_station(live_server, "CP-RAW", "ocpp1.6") as websocket:
        await websocket.send("this is not json")
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "FormationViolation"]
        await websocket.send(json.dumps({"not": "a list"}))
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "ProtocolError"]
        await websocket.send(b"\x00binary")
        assert json.loads(await websocket.recv())[2] == "FormationViolation"
        await websocket.send(json.dumps([9, "m-0", "Heartbeat", {}]))
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "PropertyConstraintViolation"]
        # Still up: a well-formed CALL is answered with its own message id.
        await websocket.send(json.dumps([2, "m-1", "Heartbeat", {}]))
        reply = json.loads(await websocket.recv())
        assert reply[:2] == [3, "m-1"] and "currentTime" in reply[2]
        # A CALLRESULT to nothing of ours needs no answer; the next CALL is still answered.
        await websocket.send(json.dumps([3, "ours-1", {}]))
        await websocket.send(json.dumps([2, "m-2", "NoSuchAction", {}]))
        assert json.loads(await websocket.recv())[:3] == [4, "m-2", "NotSupported"]
        await websocket.send(json.dumps([2, "m-3", "GetConfiguration", {}]))
        assert json.loads(await websocket.recv())[:3] == [4, "m-3", "NotImplemented"]


@pytest.mark.parametrize("depth", [MAX_FRAME_DEPTH + 5, 5_000])
async def test_a_frame_nested_too_deeply_is_a_framing_error_and_the_connection_stays(
    live_server, register, depth
):
    await register("CP-DEEP")
    async with await open_station(live_server, "CP-DEEP", "ocpp1.6") as websocket:
        nested = "[" * depth + "]" * depth
        await websocket.send(f'[2,"m-5","DataTransfer",{{"vendorId":"x","data":{nested}}}]')
        error = json.loads(await websocket.recv())
        assert error[:3] == [4, "-1", "FormationViolation"]
        assert str(MAX_FRAME_DEPTH) in error[3]
        await websocket.send(json.dumps([2, "m-6", "Heartbeat", {}]))
        assert json.loads(await websocket.recv())[:2] == [3, "m-6"]


def test_a_frame_longer_than_the_limit_is_a_framing_error_unparsed():
    # Reached when CPMS_MAX_REQUEST_BYTES lets larger websocket messages in (by default the
    # server closes the connection first: tests/app/test_request_limits.py).
    oversized = json.dumps([2, "m-4", "DataTransfer", {"vendorId": "x" * MAX_FRAME_CHARS}])
    error = framing_error("ocpp1.6", oversized)
    assert error is not None and json.loads(error)[:3] == [4, "-1", "FormationViolation"]


async def test_ocpp201_framing_error_uses_its_own_code(live_server, register):
    await register("CP-RAW-201")
    async with await open_station(live_server, "CP-RAW-201", "ocpp2.0.1") as websocket:
        await websocket.send("{broken")
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "FormatViolation"]


async def test_unknown_station_is_refused_and_logged(live_server, organization):
    with pytest.raises(InvalidStatus) as refused:
        async with await open_station(live_server, "CP-STRANGER", "ocpp1.6"):
            pass
    assert refused.value.response.status_code == 403
    events = await SecurityEvent.select().where(SecurityEvent.identity == "CP-STRANGER")
    assert [(e["type"], e["source"]) for e in events] == [("UnknownStation", "server")]


@pytest.mark.parametrize(
    ("policy", "status"), [("pending", "Pending"), ("auto_register", "Accepted")]
)
async def test_unknown_station_policy_registers(live_server, organization, policy, status):
    await Organization.update({Organization.unknown_station_policy: policy}).where(
        Organization.slug == REGISTRY_ORGANIZATION
    )
    async with await open_station(live_server, "CP-NEWCOMER", "ocpp1.6") as websocket:
        await websocket.send(json.dumps([2, "b-1", "BootNotification", BOOT_16]))
        reply = json.loads(await websocket.recv())
    assert reply[2]["status"] == status
    assert (await station_row("CP-NEWCOMER"))["registration_status"] == status


async def test_basic_auth_password_is_checked(live_server, register, connect_charger):
    await register("CP-SECURE", password="0123456789abcdef")
    for wrong in (None, "not-the-password"):
        with pytest.raises(InvalidStatus):
            async with connect_charger("CP-SECURE", password=wrong):
                pass
    async with connect_charger("CP-SECURE", password="0123456789abcdef") as client:
        result = await client.call(call16.Heartbeat())
        assert result.current_time
    reasons = await SecurityEvent.select(SecurityEvent.tech_info).where(
        SecurityEvent.identity == "CP-SECURE"
    )
    assert [r["tech_info"] for r in reasons] == ["no credentials", "wrong password"]
    stored = await ChargingStation.select(ChargingStation.password_hash).first()
    assert stored is not None and "0123456789abcdef" not in stored["password_hash"]


async def test_profile_2_station_needs_tls(live_server, register):
    await register("CP-TLS-ONLY", password="0123456789abcdef", profile=2)
    with pytest.raises(InvalidStatus):
        async with await open_station(live_server, "CP-TLS-ONLY", "ocpp1.6"):
            pass


async def station_row(identity: str) -> dict:
    row = await ChargingStation.select().where(ChargingStation.identity == identity).first()
    assert row is not None
    return row


async def test_presence_follows_the_connection(live_server, register, connect_charger):
    await register("CP-PRESENCE")
    async with connect_charger("CP-PRESENCE"):
        row = (
            await ChargingStation.select().where(ChargingStation.identity == "CP-PRESENCE").first()
        )
        assert row["connected"] is True and row["protocol"] == "ocpp1.6"
        assert row["node_id"] == "node-1" and row["last_seen_at"] is not None
    for _ in range(100):
        row = (
            await ChargingStation.select().where(ChargingStation.identity == "CP-PRESENCE").first()
        )
        if not row["connected"]:
            break
        await asyncio.sleep(0.02)
    assert row["connected"] is False


async def test_second_connection_replaces_the_first(live_server, register, connect_charger):
    await register("CP-TWICE")
    async with (
        await open_station(live_server, "CP-TWICE", "ocpp1.6") as first,
        connect_charger("CP-TWICE") as second,
    ):
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(first.recv(), 5)
        assert first.close_code == 4001
        assert (await second.call(call16.Heartbeat())).current_time
        assert (await station_row("CP-TWICE"))["connected"] is True


async def test_a_station_back_before_its_lost_connection_was_noticed(
    live_server, register, connect_charger
):
    """The network dropped without a goodbye and the station is back at once: its new
    connection replaces the dead one, which cannot be closed any more, and works."""
    await register("CP-FLAKY")
    first = await (await open_station(live_server, "CP-FLAKY", "ocpp1.6"))
    await first.send(json.dumps([2, "b-1", "BootNotification", BOOT_16]))
    await first.recv()
    first.transport.abort()
    async with connect_charger("CP-FLAKY") as second:
        assert (await second.call(call16.Heartbeat())).current_time
        assert (await station_row("CP-FLAKY"))["connected"] is True


async def test_an_unknown_station_connecting_twice_at_once_is_registered_once(
    live_server, organization
):
    await Organization.update({Organization.unknown_station_policy: "auto_register"}).where(
        Organization.slug == REGISTRY_ORGANIZATION
    )
    attempts = [await open_station(live_server, "CP-HASTY", "ocpp1.6") for _ in range(4)]
    connections = await asyncio.gather(*attempts, return_exceptions=True)
    # Every handshake succeeds (the last to attach replaces the others).
    assert not [c for c in connections if isinstance(c, BaseException)], connections
    for connection in connections:
        await connection.close()
    assert await ChargingStation.count().where(ChargingStation.identity == "CP-HASTY") == 1


async def test_registering_an_identity_again_finds_the_first_one(organization):
    from app.stations import repository

    found = [
        await repository.create_station(
            organization_id=organization,
            identity="CP-ONCE",
            registration_status="Accepted",
            security_profile=0,
            password_hash=None,
        )
        for _ in range(2)
    ]
    assert found[0].id == found[1].id


async def test_a_connector_first_seen_twice_at_once_is_created_once(organization):
    from app.stations import repository

    station = await repository.create_station(
        organization_id=organization,
        identity="CP-RACY",
        registration_status="Accepted",
        security_profile=0,
        password_hash=None,
    )
    rows = await asyncio.gather(*(repository.ensure_connector(station.id, 1, 1) for _ in range(4)))
    assert len(set(rows)) == 1


async def test_a_node_busy_admitting_turns_a_station_away_to_retry(live_server, register):
    """With no turn free (all taken here), a station is refused before any database work and
    gets in once a turn is free again."""
    await register("CP-PATIENT")
    gate = live_server.app.state.ocpp.admission
    gate._patience_s = 0.05
    held = [
        gate.turn() for _ in range(live_server.app.state.runtime.settings.ocpp_admissions_at_once)
    ]
    for turn in held:
        assert await turn.__aenter__()
    with pytest.raises(InvalidStatus):
        async with await open_station(live_server, "CP-PATIENT", "ocpp1.6"):
            pass
    assert (await station_row("CP-PATIENT"))["connected"] is False
    for turn in held:
        await turn.__aexit__(None, None, None)
    async with await open_station(live_server, "CP-PATIENT", "ocpp1.6"):
        assert (await station_row("CP-PATIENT"))["connected"] is True


@pytest.mark.parametrize("path", ["X%00", "X%0A", "%2541"])
async def test_an_identity_with_control_characters_or_double_encoding_is_refused(
    live_server, register, path
):
    await register("A")  # `%2541` must not be taken for station A
    with pytest.raises(InvalidStatus) as refused:
        async with await open_station(live_server, path, "ocpp1.6"):
            pass
    assert refused.value.response.status_code == 403
    assert await ChargingStation.select(ChargingStation.identity) == [{"identity": "A"}]


async def test_a_station_gone_before_its_handshake_is_answered_is_not_left_online(
    live_server, register, monkeypatch, caplog
):
    """A station of a reconnect storm gives up while its connection waits for admission: the
    admission finds nobody to answer, records it offline again and raises nothing."""
    from app.stations import registration

    await register("CP-IMPATIENT")
    admitted = asyncio.Event()
    client_gone = asyncio.Event()
    real_admit = registration.admit_connection

    async def admit_after_the_client_left(*args, **kwargs):
        await client_gone.wait()
        await asyncio.sleep(0.2)  # the server has seen the socket close
        admission = await real_admit(*args, **kwargs)
        admitted.set()
        return admission

    monkeypatch.setattr(registration, "admit_connection", admit_after_the_client_left)
    _, writer = await asyncio.open_connection("127.0.0.1", live_server.port)
    writer.write(
        b"GET /ocpp/CP-IMPATIENT HTTP/1.1\r\nHost: cpms\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    )
    await writer.drain()
    await asyncio.sleep(0.2)  # the request reached the app
    writer.close()
    client_gone.set()
    await asyncio.wait_for(admitted.wait(), 10)
    async with asyncio.timeout(10):
        while True:
            row = await ChargingStation.select(ChargingStation.connected).where(
                ChargingStation.identity == "CP-IMPATIENT"
            )
            if row[0]["connected"] is False:
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # whatever the endpoint does next has happened
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "database is unreachable" not in caplog.text
