"""OCPP 1.6J: every charger message, with a real `ocpp` client against the live server."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from ocpp.v16 import call

from app.events import (
    ConnectorStatusChanged,
    SessionChanged,
    StationBooted,
    StationConnectionChanged,
)
from app.timeparse import utcnow
from db.tables import (
    ChargingSession,
    ChargingStation,
    Connector,
    IdToken,
    MeterSample,
    OcppMessageLog,
    SecurityEvent,
    StatusChange,
)
from tests.conftest import next_event_of

IDENTITY = "CP16"
NOW = "2026-11-23T10:00:00Z"


@pytest.fixture
async def station(register, organization):
    identity = f"{IDENTITY}-{uuid.uuid4().hex[:8]}"  # its own events, whatever is in flight
    await register(identity)
    await IdToken.insert(
        IdToken(organization=organization, uid="GOODCARD"),
        IdToken(organization=organization, uid="BLOCKEDCARD", status="Blocked"),
    )
    return identity


async def boot(client):
    return await client.call(
        call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1")
    )


async def test_boot_is_accepted_and_stored(station, connect_charger, live_server):
    bus = live_server.app.state.runtime.bus
    async with bus.subscribe(StationBooted) as events, connect_charger(station) as client:
        result = await client.call(
            call.BootNotification(
                charge_point_vendor="ACME",
                charge_point_model="X1",
                charge_point_serial_number="SN-1",
                firmware_version="1.2.3",
                iccid="8931",
            )
        )
        event = await next_event_of(events, station)
    assert result.status == "Accepted" and result.interval == 300
    assert event.identity == station and event.vendor == "ACME"
    row = await ChargingStation.select().where(ChargingStation.identity == station).first()
    assert (row["vendor"], row["model"], row["serial_number"], row["firmware_version"]) == (
        "ACME",
        "X1",
        "SN-1",
        "1.2.3",
    )
    assert row["last_boot_at"] is not None


async def test_over_long_boot_fields_are_cut_not_refused(station, connect_charger):
    async with connect_charger(station) as client:
        # A 26-character serial number (limit 25) and a long vendor, as seen in the field.
        result = await client.call(
            call.BootNotification(
                charge_point_vendor="V" * 60,
                charge_point_model="X1",
                charge_point_serial_number="S" * 26,
            ),
            skip_schema_validation=True,
        )
    assert result.status == "Accepted"
    row = await ChargingStation.select(ChargingStation.vendor).first()
    assert row["vendor"] == "V" * 50


async def test_every_frame_counts_as_a_sign_of_life(station, connect_charger, live_server):
    presence = live_server.app.state.ocpp.presence
    async with connect_charger(station) as client:
        before = (await ChargingStation.select(ChargingStation.last_seen_at).first())[
            "last_seen_at"
        ]
        await asyncio.sleep(0.01)
        result = await client.call(call.Heartbeat())
        await presence.flush()  # written in batches, not per frame
        after = (await ChargingStation.select(ChargingStation.last_seen_at).first())["last_seen_at"]
    assert result.current_time and after > before


async def test_a_silent_station_is_marked_offline_and_dropped(
    station, connect_charger, live_server
):
    presence = live_server.app.state.ocpp.presence
    bus = live_server.app.state.runtime.bus
    async with (
        bus.subscribe(StationConnectionChanged) as events,
        connect_charger(station) as client,
    ):
        await boot(client)
        await next_event_of(events, station)  # its connection
        await presence.flush()
        # Its last sign of life was long ago (heartbeat interval 300 s).
        await ChargingStation.update(
            {ChargingStation.last_seen_at: utcnow() - timedelta(minutes=15)}
        ).where(ChargingStation.identity == station)
        assert await presence.sweep() == [station]
        offline = await next_event_of(events, station)
        assert (offline.identity, offline.connected) == (station, False)
        await asyncio.wait_for(client._connection.wait_closed(), 5)
        assert client._connection.close_code == 4002
    row = await ChargingStation.select(ChargingStation.connected).first()
    assert row["connected"] is False


async def test_a_recently_heard_station_stays_online(station, connect_charger, live_server):
    presence = live_server.app.state.ocpp.presence
    async with connect_charger(station) as client:
        await boot(client)
        assert await presence.sweep() == []
        assert (await client.call(call.Heartbeat())).current_time


async def test_status_notification_creates_connector_and_history(
    station, connect_charger, live_server
):
    bus = live_server.app.state.runtime.bus
    async with bus.subscribe(ConnectorStatusChanged) as events, connect_charger(station) as client:
        await boot(client)
        await client.call(
            call.StatusNotification(connector_id=2, error_code="NoError", status="Available")
        )
        await client.call(
            call.StatusNotification(
                connector_id=2,
                error_code="GroundFailure",
                status="Faulted",
                vendor_error_code="E42",
                timestamp=NOW,
            )
        )
        first = await next_event_of(events, station)
        second = await next_event_of(events, station)
    assert (first.status, second.status, second.error_code) == (
        "Available",
        "Faulted",
        "GroundFailure",
    )
    connector = await Connector.select().first()
    assert (connector["status"], connector["error_code"], connector["vendor_error_code"]) == (
        "Faulted",
        "GroundFailure",
        "E42",
    )
    history = (
        await StatusChange.select()
        .where(StatusChange.connector.is_not_null())
        .order_by(StatusChange.id)
    )
    assert [h["status"] for h in history] == ["Available", "Faulted"]
    connections = await StatusChange.select().where(StatusChange.connector.is_null())
    assert [c["status"] for c in connections][:1] == ["Connected"]  # for uptime


async def test_unknown_error_code_is_kept_as_other_error(station, connect_charger):
    async with connect_charger(station) as client:
        await client.call(
            call.StatusNotification(connector_id=1, error_code="Error", status="Faulted"),
            skip_schema_validation=True,
        )
    connector = await Connector.select().first()
    assert (connector["error_code"], connector["vendor_error_code"]) == ("OtherError", "Error")


async def test_station_status_on_connector_zero(station, connect_charger):
    async with connect_charger(station) as client:
        await client.call(
            call.StatusNotification(connector_id=0, error_code="NoError", status="Unavailable")
        )
    assert (await ChargingStation.select(ChargingStation.status).first())["status"] == "Unavailable"
    assert await Connector.count() == 0


@pytest.mark.parametrize(
    ("id_tag", "status"),
    [("GOODCARD", "Accepted"), ("BLOCKEDCARD", "Blocked"), ("NOBODY", "Invalid")],
)
async def test_authorize(station, connect_charger, id_tag, status):
    async with connect_charger(station) as client:
        result = await client.call(call.Authorize(id_tag=id_tag))
    assert result.id_tag_info["status"] == status


async def test_free_vend_station_accepts_unknown_but_not_blocked_tokens(station, connect_charger):
    await ChargingStation.update({ChargingStation.free_vend: True}).where(
        ChargingStation.identity == station
    )
    async with connect_charger(station) as client:
        stranger = await client.call(call.Authorize(id_tag="NOBODY"))
        blocked = await client.call(call.Authorize(id_tag="BLOCKEDCARD"))
    assert (stranger.id_tag_info["status"], blocked.id_tag_info["status"]) == (
        "Accepted",
        "Blocked",
    )


async def start(client, meter_start=1000, timestamp=NOW, id_tag="GOODCARD"):
    return await client.call(
        call.StartTransaction(
            connector_id=1, id_tag=id_tag, meter_start=meter_start, timestamp=timestamp
        )
    )


async def test_transaction_from_start_to_stop(station, connect_charger, live_server):
    bus = live_server.app.state.runtime.bus
    async with bus.subscribe(SessionChanged) as events, connect_charger(station) as client:
        started = await start(client)
        await client.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": "2026-11-23T10:30:00Z",
                        "sampledValue": [
                            {"value": "6.5", "unit": "kWh"},
                            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            )
        )
        stopped = await client.call(
            call.StopTransaction(
                meter_stop=9500,
                timestamp="2026-11-23T11:00:00Z",
                transaction_id=started.transaction_id,
                reason="EVDisconnected",
                id_tag="GOODCARD",
            )
        )
        phases = [(await next_event_of(events, station)).phase for _ in range(3)]
    assert started.id_tag_info["status"] == "Accepted"
    assert stopped.id_tag_info["status"] == "Accepted"
    assert phases == ["started", "updated", "ended"]
    session = await ChargingSession.select().first()
    assert session["transaction_id"] == str(started.transaction_id)
    assert (session["state"], session["energy_wh"], session["meter_stop_wh"]) == (
        "completed",
        8500,
        9500,
    )
    assert session["stop_reason"] == "EVDisconnected"
    assert session["ended_at"].isoformat().startswith("2026-11-23T11:00:00")
    samples = await MeterSample.select().order_by(MeterSample.id)
    assert [(s["measurand"], s["unit"]) for s in samples] == [
        ("Energy.Active.Import.Register", "kWh"),
        ("Power.Active.Import", "W"),
    ]


async def test_updates_learn_energy_and_power(station, connect_charger):
    async with connect_charger(station) as client:
        started = await start(client, meter_start=0)
        # Number instead of string, energy only per phase: both seen in the field.
        await client.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": "2026-11-23T10:10:00Z",
                        "sampledValue": [
                            {"value": 1000, "phase": "L1"},
                            {"value": 1000, "phase": "L2"},
                            {"value": 1000, "phase": "L3"},
                            {"value": 7400, "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            ),
            skip_schema_validation=True,
        )
    session = await ChargingSession.select().first()
    assert (session["energy_wh"], session["power_w"]) == (3000, 7400)


async def test_start_resent_after_a_lost_reply_gets_the_same_id(station, connect_charger):
    async with connect_charger(station) as client:
        first = await start(client)
        again = await start(client)
        other = await start(client, timestamp="2026-11-23T12:00:00Z")
    assert first.transaction_id == again.transaction_id != other.transaction_id
    assert await ChargingSession.count() == 2


async def test_stop_resent_changes_nothing(station, connect_charger):
    async with connect_charger(station) as client:
        started = await start(client)
        stop = call.StopTransaction(
            meter_stop=2000, timestamp="2026-11-23T11:00:00Z", transaction_id=started.transaction_id
        )
        await client.call(stop)
        await client.call(
            call.StopTransaction(
                meter_stop=99999,
                timestamp="2026-11-23T12:00:00Z",
                transaction_id=started.transaction_id,
            )
        )
    session = await ChargingSession.select().first()
    assert (session["energy_wh"], session["meter_stop_wh"]) == (1000, 2000)


@pytest.mark.parametrize("transaction_id", [-1, 0, 987654])
async def test_stop_for_unknown_transaction_is_accepted_as_orphan(
    station, connect_charger, transaction_id
):
    async with connect_charger(station) as client:
        for _ in range(2):  # a replay must not add a second orphan
            await client.call(
                call.StopTransaction(
                    meter_stop=5000, timestamp=NOW, transaction_id=transaction_id, reason="Local"
                )
            )
    orphans = await ChargingSession.select().where(ChargingSession.state == "orphan")
    assert len(orphans) == 1
    assert orphans[0]["meter_stop_wh"] == 5000 and orphans[0]["offline"] is True


async def test_offline_transaction_keeps_its_own_times(station, connect_charger):
    async with connect_charger(station) as client:
        # Queued while offline: delivered hours later, with the original timestamps.
        started = await start(client, meter_start=100, timestamp="2026-11-20T08:00:00Z")
        await client.call(
            call.StopTransaction(
                meter_stop=20100,
                timestamp="2026-11-20T10:00:00Z",
                transaction_id=started.transaction_id,
                transaction_data=[
                    {
                        "timestamp": "2026-11-20T10:00:00Z",
                        "sampledValue": [{"value": "20100", "context": "Transaction.End"}],
                    }
                ],
            )
        )
    session = await ChargingSession.select().first()
    assert session["started_at"].isoformat().startswith("2026-11-20T08:00:00")
    assert session["ended_at"].isoformat().startswith("2026-11-20T10:00:00")
    assert session["energy_wh"] == 20000
    assert await MeterSample.count() == 1


async def test_signed_meter_data_is_stored_byte_exact(station, connect_charger):
    signed = (
        'OCMF|{"FV":"1.0","RD":[{"RV":2.0310,"TM":"2026-11-23T10:00:00,000+0000 S"}]}|{"SD":"3045"}'
    )
    async with connect_charger(station) as client:
        started = await start(client)
        await client.call(
            call.StopTransaction(
                meter_stop=2031,
                timestamp=NOW,
                transaction_id=started.transaction_id,
                transaction_data=[
                    {
                        "timestamp": NOW,
                        "sampledValue": [
                            {"value": signed, "format": "SignedData", "context": "Transaction.End"}
                        ],
                    }
                ],
            )
        )
    sample = await MeterSample.select().first()
    assert sample["signed_data"] == signed and sample["value"] is None


async def progress_of(identity: str) -> tuple[str | None, str | None]:
    row = await ChargingStation.select().where(ChargingStation.identity == identity).first()
    assert row is not None
    return row["firmware_status"], row["diagnostics_status"]


async def test_firmware_and_diagnostics_progress_is_stored(station, connect_charger):
    async with connect_charger(station) as client:
        await client.call(call.FirmwareStatusNotification(status="Downloading"))
        await client.call(call.DiagnosticsStatusNotification(status="Uploading"))
        assert await progress_of(station) == ("Downloading", "Uploading")
        await client.call(call.SignedFirmwareStatusNotification(status="Installed", request_id=1))
        await client.call(call.LogStatusNotification(status="Uploaded", request_id=1))
        assert await progress_of(station) == ("Installed", "Uploaded")
        # A status from a newer firmware is kept as sent, not refused.
        await client.call(
            call.FirmwareStatusNotification(status="VerifyingChecksum"), skip_schema_validation=True
        )
    assert await progress_of(station) == ("VerifyingChecksum", "Uploaded")


async def test_other_messages_are_acknowledged(station, connect_charger):
    async with connect_charger(station) as client:
        transfer = await client.call(call.DataTransfer(vendor_id="com.acme", message_id="x"))
        await client.call(
            call.SecurityEventNotification(
                type="TamperDetectionActivated", timestamp=NOW, tech_info="lid opened"
            )
        )
    assert transfer.status == "UnknownVendorId"
    events = await SecurityEvent.select()
    assert [(e["type"], e["source"]) for e in events] == [("TamperDetectionActivated", "station")]


async def test_missing_required_field_is_a_call_error(station, live_server):
    from tests.ocpp_server.test_endpoint import open_station

    async with await open_station(live_server, station, "ocpp1.6") as websocket:
        await websocket.send(json.dumps([2, "s-1", "StartTransaction", {"connectorId": 1}]))
        reply = json.loads(await websocket.recv())
        await websocket.send(
            json.dumps(
                [
                    2,
                    "s-2",
                    "StatusNotification",
                    {"connectorId": "one", "errorCode": "NoError", "status": "Available"},
                ]
            )
        )
        typed = json.loads(await websocket.recv())
    assert reply[:3] == [4, "s-1", "OccurenceConstraintViolation"]
    assert typed[:3] == [4, "s-2", "TypeConstraintViolation"]
    assert await ChargingSession.count() == 0


async def test_frames_are_kept_in_the_message_log(station, connect_charger, live_server):
    # Frames of earlier tests may still sit in the buffer.
    await live_server.app.state.ocpp.message_log.flush()
    await OcppMessageLog.delete(force=True)
    async with connect_charger(station) as client:
        await client.call(call.Heartbeat())
    await live_server.app.state.ocpp.message_log.flush()
    rows = (
        await OcppMessageLog.select()
        .where(OcppMessageLog.identity == station)
        .order_by(OcppMessageLog.id)
    )
    assert [(r["direction"], r["message_type"], r["action"]) for r in rows] == [
        ("in", 2, "Heartbeat"),
        ("out", 3, None),
    ]
    assert json.loads(rows[0]["frame"])[2] == "Heartbeat"


async def test_message_log_keeps_frames_for_the_retention_period(station, live_server):
    message_log = live_server.app.state.ocpp.message_log
    await message_log.flush()
    await OcppMessageLog.delete(force=True)
    await OcppMessageLog.insert(
        OcppMessageLog(
            identity=station,
            direction="in",
            message_type=2,
            message_id="old",
            frame="[]",
            created_at=utcnow() - timedelta(days=8),
        ),
        OcppMessageLog(
            identity=station, direction="in", message_type=2, message_id="new", frame="[]"
        ),
    )
    await message_log.prune()  # 7 days by default
    assert [r["message_id"] for r in await OcppMessageLog.select()] == ["new"]


async def test_message_log_writes_large_batches(station, live_server):
    message_log = live_server.app.state.ocpp.message_log
    await message_log.flush()
    await OcppMessageLog.delete(force=True)
    for n in range(5000):  # more rows than one statement can carry on PostgreSQL
        message_log.record(None, station, "in", f'[2,"{n}","Heartbeat",{{}}]')
    await message_log.flush()
    assert await OcppMessageLog.count().where(OcppMessageLog.identity == station) == 5000


async def test_a_full_chunk_of_frames_is_written_without_waiting_for_the_interval(
    station, live_server
):
    from ocpp_server.message_log import INSERT_CHUNK, MessageLog

    message_log = MessageLog(timedelta(days=1))
    message_log.record(None, station, "in", "[]")
    assert not message_log._chunk_ready.is_set()
    for n in range(INSERT_CHUNK):
        message_log.record(None, station, "in", f'[2,"{n}","Heartbeat",{{}}]')
    assert message_log._chunk_ready.is_set()  # the writer wakes now, not at the next interval
