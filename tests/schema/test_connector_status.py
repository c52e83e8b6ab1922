"""One connector status across OCPP versions, offline stations, and the dashboard agreeing."""

import asyncio

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from db.tables import IdToken
from tests.conftest import graphql

NOW = "2026-11-23T10:00:00Z"
OVERVIEW = """
{
  dashboard { stations { total online connectorsByStatus { status count } } }
  sessions(first: 10) { edges { node { transactionId stationReachable station { identity } } } }
  stations(first: 10) { edges { node { identity
    evses { connectors { status rawStatus lastReportedStatus } } } } }
}
"""


async def _overview(live_server, key: str) -> dict:
    data = (await graphql(live_server, OVERVIEW, None, key))["data"]
    return {
        "online": data["dashboard"]["stations"]["online"],
        "connectors": data["dashboard"]["stations"]["connectorsByStatus"],
        "reachable": {
            edge["node"]["station"]["identity"]: edge["node"]["stationReachable"]
            for edge in data["sessions"]["edges"]
        },
        "stations": {
            edge["node"]["identity"]: [
                connector for evse in edge["node"]["evses"] for connector in evse["connectors"]
            ]
            for edge in data["stations"]["edges"]
        },
    }


async def _charge_16(station) -> None:
    await station.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
    await station.call(
        call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
    )
    await station.call(
        call16.StartTransaction(connector_id=1, id_tag="CARD", meter_start=0, timestamp=NOW)
    )


async def _charge_201(station) -> None:
    await station.call(
        call201.BootNotification(
            charging_station={"model": "M", "vendorName": "V"}, reason="PowerUp"
        )
    )
    await station.call(
        call201.StatusNotification(
            timestamp=NOW, connector_status="Occupied", evse_id=1, connector_id=1
        )
    )
    await station.call(
        call201.TransactionEvent(
            event_type="Started",
            timestamp=NOW,
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transactionId": "tx-201", "chargingState": "Charging"},
            id_token={"idToken": "CARD", "type": "Central"},
            evse={"id": 1, "connectorId": 1},
        )
    )


async def test_both_versions_charging_read_charging_and_a_lost_station_reads_offline(
    live_server, organization, register, api_key, connect_charger
):
    await IdToken.insert(IdToken(organization=organization, uid="CARD", type="Central"))
    await register("CP-16")
    await register("CP-201")
    key = await api_key(role="viewer")
    async with connect_charger("CP-201", "ocpp2.0.1") as station_201:
        await _charge_201(station_201)
        async with connect_charger("CP-16") as station_16:
            await _charge_16(station_16)
            both = await _overview(live_server, key)
        # A 1.6 Charging and a 2.0.1 Occupied whose transaction charges are one thing.
        assert both["online"] == 2
        assert both["connectors"] == [{"status": "CHARGING", "count": 2}]
        assert both["reachable"] == {"CP-16": True, "CP-201": True}
        assert both["stations"]["CP-201"] == [
            {"status": "CHARGING", "rawStatus": "Occupied", "lastReportedStatus": "CHARGING"}
        ]
        for _ in range(100):
            lost = await _overview(live_server, key)
            # Each field reads at its own moment: wait until all of them saw the disconnect.
            if lost["online"] == 1 and not lost["reachable"]["CP-16"]:
                break
            await asyncio.sleep(0.05)
    # The 1.6 station went away: its connector is offline, its session unreachable, and the
    # dashboard's connector counts agree with its online count.
    assert lost["online"] == 1
    assert lost["connectors"] == [
        {"status": "CHARGING", "count": 1},
        {"status": "OFFLINE", "count": 1},
    ]
    assert lost["reachable"] == {"CP-16": False, "CP-201": True}
    assert lost["stations"]["CP-16"] == [
        {"status": "OFFLINE", "rawStatus": "Charging", "lastReportedStatus": "CHARGING"}
    ]
