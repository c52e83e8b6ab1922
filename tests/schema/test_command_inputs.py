"""A command's input is checked before anything is sent: a bad one is the caller's
InvalidInputError naming the field, nothing reaches the station and the command log keeps no
station error; reservation ids are the CPMS's. Real `ocpp` client, real server."""

from datetime import timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from app.timeparse import utcnow
from db.tables import CommandLog, Reservation
from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted

OUTCOME = """
    __typename
    ... on CommandAccepted { stationStatus requestId }
    ... on UserError { code message }
"""
FUTURE = (utcnow() + timedelta(hours=1)).isoformat()
PAST = (utcnow() - timedelta(minutes=1)).isoformat()
PROFILE = (
    '{chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: "TxDefaultProfile",'
    ' chargingProfileKind: "Relative", chargingSchedule: {chargingRateUnit: "A",'
    " chargingSchedulePeriod: [{startPeriod: 0, limit: 16}]}}"
)

# (mutation arguments after the identity, the field the error must name)
BAD_INPUTS = [
    ('triggerMessage(message: "Coffee")', "message"),
    (f'changeConfiguration(key: "{"K" * 51}", value: "1")', "key"),
    (f'changeConfiguration(key: "MeterValueSampleInterval", value: "{"9" * 501}")', "value"),
    ('getConfiguration(keys: ["OCPPCommCtrlr.' + "V" * 51 + '"])', "keys"),
    (
        'sendLocalList(version: 1, entries: [{idToken: "' + "T" * 37 + '"}])',
        "entries.idToken",
    ),
    (
        "setChargingProfile(evseId: 1, profile: "
        + PROFILE.replace("TxDefaultProfile", "Cheapest")
        + ")",
        "profile.chargingProfilePurpose",
    ),
    (f"setChargingProfile(evseId: -1, profile: {PROFILE})", "evseId"),
    ("clearChargingProfile(evseId: -2)", "evseId"),
    (
        'updateFirmware(location: "https://fw.example/' + "f" * 512 + '",'
        ' retrieveAt: "2026-12-06T10:00:00Z")',
        "location",
    ),
    ('uploadLogs(location: "not a url")', "location"),
    (f'dataTransfer(vendorId: "{"v" * 256}")', "vendorId"),
    ('getBaseReport(reportBase: "Everything")', "reportBase"),
    (f'reserveNow(evseId: 1, idToken: "04CARD", expiresAt: "{PAST}")', "expiresAt"),
    (f'reserveNow(evseId: -3, idToken: "04CARD", expiresAt: "{FUTURE}")', "evseId"),
    ("unlockConnector(evseId: 0)", "evseId"),
    ("getCompositeSchedule(evseId: -1, durationS: 60)", "evseId"),
]


class Station16(Client16):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[str] = []

    @on(Action16.reserve_now)
    def reserve(self, reservation_id: int, **_: Any) -> result16.ReserveNow:
        self.received.append(f"ReserveNow {reservation_id}")
        return result16.ReserveNow(status="Accepted")

    @on(Action16.cancel_reservation)
    def cancel(self, reservation_id: int, **_: Any) -> result16.CancelReservation:
        self.received.append(f"CancelReservation {reservation_id}")
        return result16.CancelReservation(status="Accepted")


@pytest.fixture
async def station(register, connect_charger):
    await register("CP-INPUTS")
    async with connect_charger("CP-INPUTS", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        yield client


@pytest.mark.parametrize(("arguments", "field"), BAD_INPUTS)
async def test_a_bad_input_is_refused_before_anything_is_sent(
    station, live_server, api_key, arguments, field
):
    token = await api_key()
    name, _, rest = arguments.partition("(")
    mutation = f'mutation {{ {name}(identity: "CP-INPUTS", {rest} {{ {OUTCOME} }} }}'
    answer = await graphql(live_server, mutation, None, token)
    outcome = answer["data"][name]
    assert outcome["__typename"] == "InvalidInputError", outcome
    assert outcome["message"].startswith(f"{field}:"), outcome
    assert station.received == []
    assert await CommandLog.count() == 0


async def test_reservation_ids_are_the_cpms_and_cancel_what_they_reserved(
    station, live_server, api_key
):
    token = await api_key()
    reserve = (
        f'mutation {{ reserveNow(identity: "CP-INPUTS", evseId: 1, idToken: "04CARD",'
        f' expiresAt: "{FUTURE}") {{ {OUTCOME} }} }}'
    )
    first = (await graphql(live_server, reserve, None, token))["data"]["reserveNow"]
    second = (await graphql(live_server, reserve, None, token))["data"]["reserveNow"]
    assert first["__typename"] == second["__typename"] == "CommandAccepted"
    assert 0 < first["requestId"] < second["requestId"]
    cancel = (
        'mutation ($id: Int!) { cancelReservation(identity: "CP-INPUTS", reservationId: $id)'
        f" {{ {OUTCOME} }} }}"
    )
    cancelled = await graphql(live_server, cancel, {"id": first["requestId"]}, token)
    assert cancelled["data"]["cancelReservation"]["__typename"] == "CommandAccepted"
    assert station.received == [
        f"ReserveNow {first['requestId']}",
        f"ReserveNow {second['requestId']}",
        f"CancelReservation {first['requestId']}",
    ]
    stored = await Reservation.select(Reservation.reservation_id, Reservation.status).order_by(
        Reservation.reservation_id
    )
    assert stored == [
        {"reservation_id": first["requestId"], "status": "Cancelled"},
        {"reservation_id": second["requestId"], "status": "Active"},
    ]


async def test_what_only_the_ocpp_schema_refuses_is_the_callers_error_too(
    station, live_server, api_key
):
    token = await api_key()
    profile = PROFILE.replace("limit: 16", 'limit: "sixteen"')
    mutation = (
        f'mutation {{ setChargingProfile(identity: "CP-INPUTS", evseId: 1, profile: {profile})'
        f" {{ {OUTCOME} }} }}"
    )
    outcome = (await graphql(live_server, mutation, None, token))["data"]["setChargingProfile"]
    assert outcome["__typename"] == "InvalidInputError"
    assert outcome["message"].startswith("SetChargingProfile cannot be sent: ")
    assert station.received == []
    failed = await CommandLog.select(CommandLog.error_code, CommandLog.error_message)
    assert [entry["error_code"] for entry in failed] == ["invalid_input"]
