"""Firmware, logs, reservations, local lists, smart charging and reports on both versions."""

import json
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.commands import models
from app.commands.errors import CommandNotSupported
from app.commands.service import send_command
from db.tables import CommandLog
from ocpp_server.v16 import commands as v16_commands
from tests.ocpp_server.test_commands import Station16, Station201, booted

MAX_PROFILE = {
    "charging_profile_id": 7,
    "stack_level": 1,
    "charging_profile_purpose": "ChargePointMaxProfile",
    "charging_profile_kind": "Absolute",
    "valid_to": "2025-07-01T00:00:00Z",
    "charging_schedule": {
        "start_schedule": "2025-06-01T00:00:00Z",
        "charging_rate_unit": "A",
        "charging_schedule_period": [
            {"start_period": 0, "limit": 32.0, "number_phases": 3},
            {"start_period": 3600, "limit": 16.0},
        ],
    },
}

TX_PROFILE = {
    "charging_profile_id": 8,
    "transaction_id": 42,
    "stack_level": 0,
    "charging_profile_purpose": "TxProfile",
    "charging_profile_kind": "Relative",
    "charging_schedule": {
        "charging_rate_unit": "W",
        "charging_schedule_period": [{"start_period": 0, "limit": 7400.0}],
    },
}

FIRMWARE = models.UpdateFirmware(
    location="https://fw.example/2.1.bin",
    retrieve_at="2025-06-01T02:00:00Z",
    retries=3,
    retry_interval_s=60,
)
RESERVE = models.ReserveNow(evse_id=1, id_token="APPUSER", expires_at="2099-06-01T03:00:00Z")
LOCAL_LIST = models.SendLocalList(
    version=4, full=True, entries=(("CARD1", "Accepted"), ("CARD2", "Blocked"))
)


class MoreStation16(Station16):
    """A 1.6 charger with every optional feature profile."""

    @on(Action16.update_firmware)
    def update_firmware(self, **payload: Any) -> result16.UpdateFirmware:
        self.received.append(("UpdateFirmware", payload))
        return result16.UpdateFirmware()

    @on(Action16.get_diagnostics)
    def get_diagnostics(self, **payload: Any) -> result16.GetDiagnostics:
        self.received.append(("GetDiagnostics", payload))
        return result16.GetDiagnostics(file_name="diagnostics.zip")

    @on(Action16.reserve_now)
    def reserve_now(self, **payload: Any) -> result16.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return result16.ReserveNow(status="Accepted")

    @on(Action16.cancel_reservation)
    def cancel_reservation(self, **payload: Any) -> result16.CancelReservation:
        self.received.append(("CancelReservation", payload))
        return result16.CancelReservation(status="Accepted")

    @on(Action16.get_local_list_version)
    def get_local_list_version(self, **payload: Any) -> result16.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", payload))
        return result16.GetLocalListVersion(list_version=3)

    @on(Action16.send_local_list)
    def send_local_list(self, **payload: Any) -> result16.SendLocalList:
        self.received.append(("SendLocalList", payload))
        return result16.SendLocalList(status="Accepted")

    @on(Action16.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        self.received.append(("SetChargingProfile", payload))
        return result16.SetChargingProfile(status="Accepted")

    @on(Action16.clear_charging_profile)
    def clear_charging_profile(self, **payload: Any) -> result16.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", payload))
        return result16.ClearChargingProfile(status="Accepted")

    @on(Action16.get_composite_schedule)
    def get_composite_schedule(self, **payload: Any) -> result16.GetCompositeSchedule:
        self.received.append(("GetCompositeSchedule", payload))
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=payload["connector_id"],
            schedule_start="2025-06-01T00:00:00Z",
            charging_schedule={
                "duration": payload["duration"],
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
            },
        )


class MoreStation201(Station201):
    """A 2.0.1 charging station with every optional functional block."""

    @on(Action201.update_firmware)
    def update_firmware(self, **payload: Any) -> result201.UpdateFirmware:
        self.received.append(("UpdateFirmware", payload))
        return result201.UpdateFirmware(status="Accepted")

    @on(Action201.get_log)
    def get_log(self, **payload: Any) -> result201.GetLog:
        self.received.append(("GetLog", payload))
        return result201.GetLog(status="Accepted", filename="diagnostics.zip")

    @on(Action201.reserve_now)
    def reserve_now(self, **payload: Any) -> result201.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return result201.ReserveNow(status="Accepted")

    @on(Action201.cancel_reservation)
    def cancel_reservation(self, **payload: Any) -> result201.CancelReservation:
        self.received.append(("CancelReservation", payload))
        return result201.CancelReservation(status="Accepted")

    @on(Action201.get_local_list_version)
    def get_local_list_version(self, **payload: Any) -> result201.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", payload))
        return result201.GetLocalListVersion(version_number=3)

    @on(Action201.send_local_list)
    def send_local_list(self, **payload: Any) -> result201.SendLocalList:
        self.received.append(("SendLocalList", payload))
        return result201.SendLocalList(status="Accepted")

    @on(Action201.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result201.SetChargingProfile:
        self.received.append(("SetChargingProfile", payload))
        return result201.SetChargingProfile(status="Accepted")

    @on(Action201.clear_charging_profile)
    def clear_charging_profile(self, **payload: Any) -> result201.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", payload))
        return result201.ClearChargingProfile(status="Accepted")

    @on(Action201.get_composite_schedule)
    def get_composite_schedule(self, **payload: Any) -> result201.GetCompositeSchedule:
        self.received.append(("GetCompositeSchedule", payload))
        return result201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": payload["evse_id"],
                "duration": payload["duration"],
                "schedule_start": "2025-06-01T00:00:00Z",
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
            },
        )

    @on(Action201.get_base_report)
    def get_base_report(self, **payload: Any) -> result201.GetBaseReport:
        self.received.append(("GetBaseReport", payload))
        return result201.GetBaseReport(status="Accepted")


@pytest.fixture
def gateway(live_server):
    return live_server.app.state.gateway


async def test_more_commands_reach_a_16_station(register, connect_charger, gateway, unit_of_work):
    await register("CP-MORE-16")
    commands = [
        FIRMWARE,
        models.UploadLogs(location="ftp://logs.example/", start="2025-05-01T00:00:00Z"),
        RESERVE,
        models.CancelReservation(reservation_id=3),  # the id the reservation was given
        models.GetLocalListVersion(),
        LOCAL_LIST,
        models.SetChargingProfile(evse_id=0, profile=MAX_PROFILE),
        models.ClearChargingProfile(evse_id=1, purpose="TxDefaultProfile"),
        models.GetCompositeSchedule(evse_id=1, duration_s=3600, rate_unit="W"),
    ]
    async with connect_charger("CP-MORE-16", client_class=MoreStation16) as client:
        await booted(client, "ocpp1.6")
        results = [await send_command(gateway, unit_of_work, "CP-MORE-16", c) for c in commands]
    assert all(result.status == "Accepted" for result in results)
    assert [result.data for result in results] == [
        {},
        {"file_name": "diagnostics.zip"},
        {},
        {},
        {"version": 3},
        {},
        {},
        {},
        {
            "schedule": {
                "evse_id": 1,
                "schedule_start": "2025-06-01T00:00:00Z",
                "duration": 3600,
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
            }
        },
    ]
    assert client.received == [
        (
            "UpdateFirmware",
            {
                "location": "https://fw.example/2.1.bin",
                "retrieve_date": "2025-06-01T02:00:00Z",
                "retries": 3,
                "retry_interval": 60,
            },
        ),
        (
            "GetDiagnostics",
            {"location": "ftp://logs.example/", "start_time": "2025-05-01T00:00:00Z"},
        ),
        (
            "ReserveNow",
            {
                "connector_id": 1,
                "expiry_date": "2099-06-01T03:00:00Z",
                "id_tag": "APPUSER",
                "reservation_id": 3,  # after the firmware update's and the log upload's
            },
        ),
        ("CancelReservation", {"reservation_id": 3}),
        ("GetLocalListVersion", {}),
        (
            "SendLocalList",
            {
                "list_version": 4,
                "update_type": "Full",
                "local_authorization_list": [
                    {"id_tag": "CARD1", "id_tag_info": {"status": "Accepted"}},
                    {"id_tag": "CARD2", "id_tag_info": {"status": "Blocked"}},
                ],
            },
        ),
        ("SetChargingProfile", {"connector_id": 0, "cs_charging_profiles": MAX_PROFILE}),
        (
            "ClearChargingProfile",
            {"connector_id": 1, "charging_profile_purpose": "TxDefaultProfile"},
        ),
        ("GetCompositeSchedule", {"connector_id": 1, "duration": 3600, "charging_rate_unit": "W"}),
    ]
    log = await CommandLog.select(CommandLog.action, CommandLog.status).order_by(CommandLog.id)
    assert log == [{"action": c.name, "status": "accepted"} for c in commands]


async def test_more_commands_reach_a_201_station(register, connect_charger, gateway, unit_of_work):
    await register("CP-MORE-201")
    commands = [
        FIRMWARE,
        models.UploadLogs(
            location="ftp://logs.example/",
            start="2025-05-01T00:00:00Z",
            stop="2025-05-02T00:00:00Z",
        ),
        RESERVE,
        models.CancelReservation(reservation_id=3),  # the id the reservation was given
        models.GetLocalListVersion(),
        LOCAL_LIST,
        models.SetChargingProfile(evse_id=0, profile=MAX_PROFILE),
        models.SetChargingProfile(evse_id=1, profile=TX_PROFILE),
        models.ClearChargingProfile(profile_id=7),
        models.ClearChargingProfile(evse_id=0, purpose="ChargePointMaxProfile", stack_level=1),
        models.GetCompositeSchedule(evse_id=1, duration_s=3600),
        models.GetBaseReport(),
    ]
    async with connect_charger("CP-MORE-201", "ocpp2.0.1", client_class=MoreStation201) as client:
        await booted(client, "ocpp2.0.1")
        results = [await send_command(gateway, unit_of_work, "CP-MORE-201", c) for c in commands]
    assert all(result.status == "Accepted" for result in results)
    assert results[1].data == {"file_name": "diagnostics.zip"}
    assert results[4].data == {"version": 3}
    assert results[10].data == {
        "schedule": {
            "evse_id": 1,
            "duration": 3600,
            "schedule_start": "2025-06-01T00:00:00Z",
            "charging_rate_unit": "W",
            "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
        }
    }
    assert client.received == [
        (
            "UpdateFirmware",
            {
                "request_id": 1,  # the station's request ids, in order
                "firmware": {
                    "location": "https://fw.example/2.1.bin",
                    "retrieve_date_time": "2025-06-01T02:00:00Z",
                },
                "retries": 3,
                "retry_interval": 60,
            },
        ),
        (
            "GetLog",
            {
                "log_type": "DiagnosticsLog",
                "request_id": 2,
                "log": {
                    "remote_location": "ftp://logs.example/",
                    "oldest_timestamp": "2025-05-01T00:00:00Z",
                    "latest_timestamp": "2025-05-02T00:00:00Z",
                },
            },
        ),
        (
            "ReserveNow",
            {
                "id": 3,  # after the firmware update's and the log upload's
                "expiry_date_time": "2099-06-01T03:00:00Z",
                "id_token": {"id_token": "APPUSER", "type": "Central"},
                "evse_id": 1,
            },
        ),
        ("CancelReservation", {"reservation_id": 3}),
        ("GetLocalListVersion", {}),
        (
            "SendLocalList",
            {
                "version_number": 4,
                "update_type": "Full",
                "local_authorization_list": [
                    {
                        "id_token": {"id_token": "CARD1", "type": "Central"},
                        "id_token_info": {"status": "Accepted"},
                    },
                    {
                        "id_token": {"id_token": "CARD2", "type": "Central"},
                        "id_token_info": {"status": "Blocked"},
                    },
                ],
            },
        ),
        (
            "SetChargingProfile",
            {
                "evse_id": 0,
                "charging_profile": {
                    "id": 7,
                    "stack_level": 1,
                    "charging_profile_purpose": "ChargingStationMaxProfile",
                    "charging_profile_kind": "Absolute",
                    "valid_to": "2025-07-01T00:00:00Z",
                    "charging_schedule": [
                        {
                            "id": 1,
                            "start_schedule": "2025-06-01T00:00:00Z",
                            "charging_rate_unit": "A",
                            "charging_schedule_period": [
                                {"start_period": 0, "limit": 32.0, "number_phases": 3},
                                {"start_period": 3600, "limit": 16.0},
                            ],
                        }
                    ],
                },
            },
        ),
        (
            "SetChargingProfile",
            {
                "evse_id": 1,
                "charging_profile": {
                    "id": 8,
                    "stack_level": 0,
                    "charging_profile_purpose": "TxProfile",
                    "charging_profile_kind": "Relative",
                    "transaction_id": "42",
                    "charging_schedule": [
                        {
                            "id": 1,
                            "charging_rate_unit": "W",
                            "charging_schedule_period": [{"start_period": 0, "limit": 7400.0}],
                        }
                    ],
                },
            },
        ),
        ("ClearChargingProfile", {"charging_profile_id": 7}),
        (
            "ClearChargingProfile",
            {
                "charging_profile_criteria": {
                    "evse_id": 0,
                    "charging_profile_purpose": "ChargingStationMaxProfile",
                    "stack_level": 1,
                }
            },
        ),
        ("GetCompositeSchedule", {"duration": 3600, "evse_id": 1}),
        ("GetBaseReport", {"request_id": 4, "report_base": "FullInventory"}),
    ]


def test_get_base_report_is_not_on_16():
    with pytest.raises(CommandNotSupported):
        v16_commands.to_call(models.GetBaseReport(request_id=1))


# One of each command, with every field set away from its default where it has one.
SAMPLES: list[models.Command] = [
    models.RemoteStart(id_token="APPUSER", evse_id=2, token_type="eMAID", remote_start_id=9),
    models.RemoteStop(transaction_id="42"),
    models.Reset(hard=True),
    models.UnlockConnector(evse_id=2, connector_id=2),
    models.ChangeAvailability(operative=False, evse_id=1),
    models.TriggerMessage(message="StatusNotification", evse_id=1),
    models.ClearCache(),
    models.DataTransfer(vendor_id="acme", message_id="ping", data="{}"),
    models.GetConfiguration(keys=("HeartbeatInterval", "MeterValueSampleInterval")),
    models.ChangeConfiguration(key="HeartbeatInterval", value="60"),
    FIRMWARE,
    models.UploadLogs(location="ftp://logs.example/", start="2025-05-01T00:00:00Z", request_id=3),
    RESERVE,
    models.CancelReservation(reservation_id=5),
    models.GetLocalListVersion(),
    LOCAL_LIST,
    models.SetChargingProfile(evse_id=1, profile=TX_PROFILE),
    models.ClearChargingProfile(profile_id=7, evse_id=1, purpose="TxProfile", stack_level=0),
    models.GetCompositeSchedule(evse_id=1, duration_s=600, rate_unit="A"),
    models.GetBaseReport(request_id=13, report_base="SummaryInventory"),
    models.SetStationPassword(password="0123456789abcdef0123456789abcdef01234567"),
    models.InstallCertificate(certificate_type="CSMSRootCertificate", certificate="PEM"),
    models.GetInstalledCertificates(certificate_types=("ManufacturerRootCertificate",)),
    models.DeleteCertificate(
        hash_algorithm="SHA256", issuer_name_hash="a", issuer_key_hash="b", serial_number="1"
    ),
    models.CertificateSigned(
        certificate_chain="PEM", certificate_type="ChargingStationCertificate"
    ),
]


def test_samples_cover_every_command():
    assert sorted(c.name for c in SAMPLES) == sorted(models.COMMAND_TYPES)


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: c.name)
def test_commands_round_trip_through_json(command):
    wire = json.loads(json.dumps(models.encode_command(command)))
    assert models.decode_command(wire) == command
