"""OCPP 2.0.1: every station message, with a real `ocpp` client against the live server."""

import json
import uuid

import pytest
from ocpp.v201 import call

from app.events import ConnectorStatusChanged, SessionChanged
from app.timeparse import utcnow
from db.tables import (
    ChargingSession,
    ChargingStation,
    Connector,
    IdToken,
    MeterSample,
    Reservation,
    SecurityEvent,
    StationConfiguration,
)
from tests.conftest import next_event_of

IDENTITY = "CP201"
V201 = "ocpp2.0.1"
NOW = "2026-11-23T10:00:00Z"


@pytest.fixture
async def station(register, organization):
    identity = f"{IDENTITY}-{uuid.uuid4().hex[:8]}"  # its own events, whatever is in flight
    await register(identity)
    await IdToken.insert(IdToken(organization=organization, uid="APPUSER", type="Central"))
    return identity


def register_reading(wh: float, at: str, context: str = "Sample.Periodic") -> dict:
    return {"timestamp": at, "sampledValue": [{"value": wh, "context": context}]}


def transaction_event(
    event_type: str, seq_no: int, timestamp: str, **extra
) -> call.TransactionEvent:
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=timestamp,
        trigger_reason=extra.pop("trigger_reason", "MeterValuePeriodic"),
        seq_no=seq_no,
        transaction_info={"transactionId": "tx-201-a", **extra.pop("info", {})},
        **extra,
    )


async def test_boot_is_accepted_and_stored(station, connect_charger):
    async with connect_charger(station, V201) as client:
        result = await client.call(
            call.BootNotification(
                charging_station={
                    "model": "HYC300",
                    "vendorName": "Alpitronic",
                    "serialNumber": "A-1",
                    "firmwareVersion": "2.0",
                    "modem": {"iccid": "8931", "imsi": "2620"},
                },
                reason="PowerUp",
            )
        )
    assert result.status == "Accepted"
    row = await ChargingStation.select().where(ChargingStation.identity == station).first()
    assert (row["vendor"], row["model"], row["iccid"], row["protocol"]) == (
        "Alpitronic",
        "HYC300",
        "8931",
        V201,
    )


async def test_status_notification_addresses_evse_and_connector(
    station, connect_charger, live_server
):
    bus = live_server.app.state.runtime.bus
    async with (
        bus.subscribe(ConnectorStatusChanged) as events,
        connect_charger(station, V201) as client,
    ):
        await client.call(
            call.StatusNotification(
                timestamp=NOW, connector_status="Occupied", evse_id=2, connector_id=1
            )
        )
        event = await next_event_of(events, station)
    assert (event.evse_id, event.connector_id, event.status) == (2, 1, "Occupied")
    assert (await Connector.select(Connector.status).first())["status"] == "Occupied"


@pytest.mark.parametrize(("uid", "status"), [("APPUSER", "Accepted"), ("STRANGER", "Unknown")])
async def test_authorize(station, connect_charger, uid, status):
    async with connect_charger(station, V201) as client:
        result = await client.call(call.Authorize(id_token={"idToken": uid, "type": "Central"}))
    assert result.id_token_info["status"] == status


async def test_transaction_events_make_one_session(station, connect_charger, live_server):
    bus = live_server.app.state.runtime.bus
    async with bus.subscribe(SessionChanged) as events, connect_charger(station, V201) as client:
        started = await client.call(
            transaction_event(
                "Started",
                0,
                NOW,
                trigger_reason="Authorized",
                id_token={"idToken": "APPUSER", "type": "Central"},
                evse={"id": 1, "connectorId": 1},
                meter_value=[register_reading(500, NOW, "Transaction.Begin")],
                info={"chargingState": "Charging"},
            )
        )
        await client.call(
            transaction_event(
                "Updated",
                1,
                "2026-11-23T10:15:00Z",
                meter_value=[register_reading(4500, "2026-11-23T10:15:00Z")],
            )
        )
        await client.call(
            transaction_event(
                "Ended",
                2,
                "2026-11-23T10:30:00Z",
                trigger_reason="EVDeparted",
                meter_value=[register_reading(8500, "2026-11-23T10:30:00Z", "Transaction.End")],
                info={"stoppedReason": "EVDisconnected"},
            )
        )
        phases = [(await next_event_of(events, station)).phase for _ in range(3)]
    assert started.id_token_info["status"] == "Accepted"
    assert phases == ["started", "updated", "ended"]
    session = await ChargingSession.select().first()
    assert session["transaction_id"] == "tx-201-a"
    assert (session["state"], session["meter_start_wh"], session["energy_wh"]) == (
        "completed",
        500,
        8000,
    )
    assert session["stop_reason"] == "EVDisconnected"
    seen = session["seq_nos_seen"]
    assert (json.loads(seen) if isinstance(seen, str) else seen) == [0, 1, 2]
    assert await MeterSample.count() == 3


async def test_repeated_seq_no_changes_nothing(station, connect_charger):
    async with connect_charger(station, V201) as client:
        begin = transaction_event(
            "Started", 0, NOW, evse={"id": 1}, meter_value=[register_reading(0, NOW)]
        )
        update = transaction_event(
            "Updated",
            1,
            "2026-11-23T10:05:00Z",
            meter_value=[register_reading(1000, "2026-11-23T10:05:00Z")],
        )
        for message in (begin, begin, update, update):
            await client.call(message)
    assert await ChargingSession.count() == 1
    assert await MeterSample.count() == 2
    assert (await ChargingSession.select(ChargingSession.energy_wh).first())["energy_wh"] == 1000


async def test_offline_events_are_flagged_and_keep_their_times(station, connect_charger):
    async with connect_charger(station, V201) as client:
        for seq_no, (kind, at, wh) in enumerate(
            [("Started", "2026-11-20T08:00:00Z", 100), ("Ended", "2026-11-20T09:00:00Z", 7100)]
        ):
            await client.call(
                transaction_event(
                    kind,
                    seq_no,
                    at,
                    offline=True,
                    evse={"id": 1},
                    meter_value=[register_reading(wh, at)],
                )
            )
    session = await ChargingSession.select().first()
    assert session["offline"] is True
    assert session["started_at"].isoformat().startswith("2026-11-20T08:00:00")
    assert session["ended_at"].isoformat().startswith("2026-11-20T09:00:00")
    assert session["energy_wh"] == 7000


async def test_meter_values_with_multiplier_and_signed_data(station, connect_charger):
    async with connect_charger(station, V201) as client:
        await client.call(
            transaction_event(
                "Started", 0, NOW, evse={"id": 1}, meter_value=[register_reading(0, NOW)]
            )
        )
        await client.call(
            call.MeterValues(
                evse_id=1,
                meter_value=[
                    {
                        "timestamp": "2026-11-23T10:10:00Z",
                        "sampledValue": [
                            {
                                "value": 2.5,
                                "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
                                "signedMeterValue": {
                                    "signedMeterData": "T0NNRnx7fQ==",
                                    "signingMethod": "ECDSA-secp256r1-SHA256",
                                    "encodingMethod": "OCMF",
                                    "publicKey": "oca:base64:asn1:AAAA",
                                },
                            }
                        ],
                    }
                ],
            )
        )
    session = await ChargingSession.select().first()
    assert session["energy_wh"] == 2500
    signed = await MeterSample.select().where(MeterSample.signed_data.is_not_null()).first()
    assert (signed["signed_data"], signed["encoding_method"]) == ("T0NNRnx7fQ==", "OCMF")


async def test_reports_and_notifications_are_acknowledged(station, connect_charger):
    async with connect_charger(station, V201) as client:
        await client.call(call.SecurityEventNotification(type="StartupOfTheDevice", timestamp=NOW))
        await client.call(call.NotifyReport(request_id=1, generated_at=NOW, seq_no=0, tbc=False))
        needs = await client.call(
            call.NotifyEVChargingNeeds(evse_id=1, charging_needs={"requestedEnergyTransfer": "DC"})
        )
        transfer = await client.call(call.DataTransfer(vendor_id="com.acme"))
    assert needs.status == "Rejected"
    assert transfer.status == "UnknownVendorId"
    assert [e["type"] for e in await SecurityEvent.select()] == ["StartupOfTheDevice"]


async def test_firmware_and_log_progress_is_stored(station, connect_charger):
    async with connect_charger(station, V201) as client:
        await client.call(call.FirmwareStatusNotification(status="Installing", request_id=7))
        await client.call(call.LogStatusNotification(status="Uploaded", request_id=8))
    row = await ChargingStation.select().where(ChargingStation.identity == station).first()
    assert (row["firmware_status"], row["diagnostics_status"]) == ("Installing", "Uploaded")
    assert row["firmware_status_at"] is not None


async def test_an_event_updates_the_variable_it_reports(station, connect_charger):
    async with connect_charger(station, V201) as client:
        await client.call(
            call.NotifyReport(
                request_id=1,
                generated_at=NOW,
                seq_no=0,
                report_data=[
                    {
                        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                        "variable": {"name": "Problem"},
                        "variableAttribute": [{"value": "false", "mutability": "ReadOnly"}],
                    }
                ],
            )
        )
        await client.call(
            call.NotifyEvent(
                generated_at=NOW,
                seq_no=0,
                event_data=[
                    {
                        "eventId": 1,
                        "timestamp": NOW,
                        "trigger": "Delta",
                        "actualValue": "true",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                        "variable": {"name": "Problem"},
                    }
                ],
            )
        )
    rows = await StationConfiguration.select().where(StationConfiguration.variable == "Problem")
    assert [(r["evse_id"], r["value"], r["readonly"]) for r in rows] == [(1, "true", True)]


async def test_the_station_ends_a_reservation(station, connect_charger, organization):
    station_id = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == station)
        .first()
    )["id"]
    await Reservation.insert(
        Reservation(
            organization=organization,
            station=station_id,
            reservation_id=5,
            id_tag="APPUSER",
            expires_at=utcnow(),
            status="Active",
        )
    )
    async with connect_charger(station, V201) as client:
        await client.call(
            call.ReservationStatusUpdate(reservation_id=5, reservation_update_status="Removed")
        )
        # One we never made is acknowledged (and logged), not refused.
        await client.call(
            call.ReservationStatusUpdate(reservation_id=99, reservation_update_status="Expired")
        )
    assert [r["status"] for r in await Reservation.select()] == ["Cancelled"]


async def test_missing_required_field_is_a_call_error(station, live_server):
    from tests.ocpp_server.test_endpoint import open_station

    async with await open_station(live_server, station, V201) as websocket:
        await websocket.send(
            json.dumps([2, "t-1", "TransactionEvent", {"eventType": "Started", "seqNo": 0}])
        )
        reply = json.loads(await websocket.recv())
    assert reply[:3] == [4, "t-1", "OccurrenceConstraintViolation"]
    assert await ChargingSession.count() == 0


def report_item(variable: str, value: str, mutability: str = "ReadWrite") -> dict:
    return {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": variable},
        "variableAttribute": [{"type": "Actual", "value": value, "mutability": mutability}],
        "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
    }


async def test_notify_report_stores_the_device_model(station, connect_charger):
    async with connect_charger(station, V201) as client:
        await client.call(
            call.NotifyReport(
                request_id=1,
                generated_at=NOW,
                seq_no=0,
                report_data=[
                    report_item("HeartbeatInterval", "300"),
                    report_item("NetworkProfileConnectionAttempts", "3", "ReadOnly"),
                ],
            )
        )
        # A later report of the same variable replaces the value.
        await client.call(
            call.NotifyReport(
                request_id=2,
                generated_at=NOW,
                seq_no=0,
                report_data=[report_item("HeartbeatInterval", "60")],
            )
        )
    rows = await StationConfiguration.select().order_by(StationConfiguration.variable)
    assert [(r["component"], r["variable"], r["value"], r["readonly"]) for r in rows] == [
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", False),
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", True),
    ]


def located(measurand: str, value: float, at: str, location: str | None, **extra) -> dict:
    sampled = {"value": value, "measurand": measurand, **extra}
    if location is not None:
        sampled["location"] = location
    return {"timestamp": at, "sampledValue": [sampled]}


async def test_energy_and_power_are_measured_at_the_outlet_and_every_reading_is_kept(
    station, connect_charger
):
    """A station that meters at its outlet and at its grid inlet is billed for the outlet;
    a reading that names no location is at the outlet (OCPP's default)."""
    energy, power = "Energy.Active.Import.Register", "Power.Active.Import"
    later = "2026-11-23T10:30:00Z"
    async with connect_charger(station, V201) as client:
        await client.call(
            transaction_event(
                "Started",
                0,
                NOW,
                evse={"id": 1},
                meter_value=[
                    located(energy, 10_150, NOW, "Inlet"),
                    located(energy, 10_000, NOW, "Outlet"),
                    located(energy, 700, NOW, "Body"),
                ],
            )
        )
        await client.call(
            transaction_event(
                "Updated",
                1,
                later,
                meter_value=[
                    located(energy, 15_750, later, "Inlet"),
                    located(energy, 15_500, later, None),
                    located(power, 11.2, later, "Inlet", unitOfMeasure={"unit": "kW"}),
                    located(power, 11_040, later, "Outlet", unitOfMeasure={"unit": "W"}),
                ],
            )
        )
    session = await ChargingSession.select(
        ChargingSession.meter_start_wh, ChargingSession.energy_wh, ChargingSession.power_w
    ).first()
    assert session == {"meter_start_wh": 10_000, "energy_wh": 5_500, "power_w": 11_040}
    kept = await MeterSample.select(MeterSample.location).order_by(MeterSample.id)
    assert [row["location"] for row in kept] == [
        "Inlet",
        "Outlet",
        "Body",
        "Inlet",
        None,
        "Inlet",
        "Outlet",
    ]
