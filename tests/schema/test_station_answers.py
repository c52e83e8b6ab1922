"""What a station answers a command reaches the API as the API speaks: camelCase keys, one
shape for a composite schedule whatever the version, the station's own configuration key
names, and the reason a 2.0.1 station gives for refusing. Real `ocpp` clients, real server."""

from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted

OUTCOME = """
    __typename
    ... on CommandAccepted { stationStatus data }
    ... on RejectedByStationError { stationStatus reason data message }
"""


class Station16(Client16):
    @on(Action16.get_composite_schedule)
    def composite(self, **_: Any) -> result16.GetCompositeSchedule:
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=1,
            schedule_start="2026-12-06T10:00:00Z",
            charging_schedule={
                "duration": 3600,
                "start_schedule": "2026-12-06T09:00:00Z",
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
                "min_charging_rate": 1380.0,
            },
        )

    @on(Action16.get_configuration)
    def configuration(self, **_: Any) -> result16.GetConfiguration:
        return result16.GetConfiguration(
            configuration_key=[
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "Vendor_Meter_Type", "readonly": True, "value": "DZG"},
            ],
            unknown_key=["No_Such_Key"],
        )

    @on(Action16.get_diagnostics)
    def diagnostics(self, **_: Any) -> result16.GetDiagnostics:
        return result16.GetDiagnostics(file_name="diag_2026.zip")


async def test_answers_have_the_apis_keys_and_one_schedule_shape(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-ANSWERS")
    variables = {"identity": "CP-ANSWERS"}
    async with connect_charger("CP-ANSWERS", client_class=Station16) as station:
        await booted(station, "ocpp1.6")
        schedule = await graphql(
            live_server,
            "mutation ($identity: String!) { getCompositeSchedule(identity: $identity, evseId: 1,"
            " durationS: 3600) {" + OUTCOME + "} }",
            variables,
            token,
        )
        configuration = await graphql(
            live_server,
            "mutation ($identity: String!) { getConfiguration(identity: $identity) {"
            + OUTCOME
            + "} }",
            variables,
            token,
        )
        logs = await graphql(
            live_server,
            'mutation ($identity: String!) { uploadLogs(identity: $identity, location: "ftp://x")'
            " {" + OUTCOME + "} }",
            variables,
            token,
        )
    assert schedule["data"]["getCompositeSchedule"]["data"] == {
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": "2026-12-06T10:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        }
    }
    assert configuration["data"]["getConfiguration"]["data"] == {
        "values": {"HeartbeatInterval": "300", "Vendor_Meter_Type": "DZG"},
        "unknown": ["No_Such_Key"],
    }
    assert logs["data"]["uploadLogs"]["data"] == {"fileName": "diag_2026.zip"}


class RefusingStation201(Client201):
    @on(Action201.request_start_transaction)
    def request_start(self, **_: Any) -> result201.RequestStartTransaction:
        return result201.RequestStartTransaction(
            status="Rejected",
            status_info={"reason_code": "InvalidIdToken", "additional_info": "card unknown"},
        )


async def test_a_refusal_carries_the_stations_reason(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-REFUSES")
    async with connect_charger("CP-REFUSES", "ocpp2.0.1", client_class=RefusingStation201) as cp:
        await booted(cp, "ocpp2.0.1")
        refused = await graphql(
            live_server,
            'mutation { remoteStart(identity: "CP-REFUSES", idToken: "04CARD", evseId: 1) {'
            + OUTCOME
            + "} }",
            None,
            token,
        )
    assert refused["data"]["remoteStart"] == {
        "__typename": "RejectedByStationError",
        "stationStatus": "Rejected",
        "reason": "InvalidIdToken",
        "data": {"statusInfo": {"reasonCode": "InvalidIdToken", "additionalInfo": "card unknown"}},
        "message": "station CP-REFUSES answered Rejected (InvalidIdToken)",
    }


class ScheduledStation201(Client201):
    """Reports the station-wide limit it is under, a lower one the second time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = [32.0, 16.0]

    @on(Action201.get_composite_schedule)
    def composite(self, evse_id: int, duration: int, **_: Any) -> Any:
        return result201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": "2026-12-06T10:00:00Z",
                "charging_rate_unit": "A",
                "charging_schedule_period": [
                    {"start_period": 0, "limit": self.limits.pop(0), "number_phases": 3}
                ],
            },
        )


async def test_the_stations_composite_schedule_is_kept_and_shown(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-COMPOSITE")
    ask = (
        'mutation { getCompositeSchedule(identity: "CP-COMPOSITE", evseId: 0, durationS: 600) {'
        + OUTCOME
        + "} }"
    )
    shown = """{ station(identity: "CP-COMPOSITE") { compositeSchedules {
        evseId scheduleStart durationS chargingRateUnit periods } } }"""
    async with connect_charger(
        "CP-COMPOSITE", "ocpp2.0.1", client_class=ScheduledStation201
    ) as station:
        await booted(station, "ocpp2.0.1")
        first = await graphql(live_server, ask, None, token)
        assert first["data"]["getCompositeSchedule"]["__typename"] == "CommandAccepted"
        kept = (await graphql(live_server, shown, None, token))["data"]["station"]
        second = await graphql(live_server, ask, None, token)
        assert second["data"]["getCompositeSchedule"]["__typename"] == "CommandAccepted"
        latest = (await graphql(live_server, shown, None, token))["data"]["station"]
    assert kept["compositeSchedules"] == [
        {
            "evseId": 0,
            "scheduleStart": "2026-12-06T10:00:00+00:00",
            "durationS": 600,
            "chargingRateUnit": "A",
            "periods": [{"startPeriod": 0, "limit": 32.0, "numberPhases": 3}],
        }
    ]
    [schedule] = latest["compositeSchedules"]
    assert schedule["periods"] == [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}]
