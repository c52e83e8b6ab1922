"""Uptime reports from what stations reported, with planned maintenance left out."""

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call
from strawberry import relay

from db.tables import ChargingStation, Connector, Site
from tests.conftest import graphql

REPORT = """
query ($id: ID!, $day: Date!) { node(id: $id) { ... on %s {
  uptime(firstDay: $day, lastDay: $day) {
    days { day uptime { uptimePercent outageS excludedOutageS } }
    last12Months { uptimePercent }
  } } } }
"""
SCHEDULE = """
mutation ($station: ID!, $connector: ID, $from: DateTime!, $to: DateTime!) {
  scheduleMaintenance(stationId: $station, connectorId: $connector, startsAt: $from,
                      endsAt: $to, reason: "new cable") {
    __typename ... on MaintenanceScheduled { window { id } } ... on UserError { code } } }
"""


def status(value: str, at: datetime) -> call.StatusNotification:
    return call.StatusNotification(
        connector_id=1, error_code="NoError", status=value, timestamp=at.isoformat()
    )


async def test_a_fault_lowers_uptime_and_maintenance_excludes_it(
    live_server, organization, register, connect_charger, api_key
):
    station = await register("CP-UP")
    site = Site(organization=organization, name="Yard", time_zone="UTC")
    await site.save()
    await ChargingStation.update({ChargingStation.site: site.id}).where(
        ChargingStation.id == station.id
    )
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    at = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC)
    async with connect_charger("CP-UP") as client:
        for value, hour in (("Available", 10), ("Faulted", 12), ("Available", 13)):
            await client.call(status(value, at + timedelta(hours=hour)))
    row = await Connector.select(Connector.id).first()
    assert row is not None
    connector = str(relay.GlobalID("Connector", str(row["id"])))
    viewer = await api_key(role="viewer")

    async def day_percent(type_name: str, node_id: str) -> str:
        result = await graphql(
            live_server, REPORT % type_name, {"id": node_id, "day": str(yesterday)}, viewer
        )
        [day] = result["data"]["node"]["uptime"]["days"]
        return day["uptime"]["uptimePercent"]

    # Commissioned at 10:00: 14 h observed, 1 h faulted.
    assert await day_percent("Connector", connector) == "92.86"
    site_id = str(relay.GlobalID("Site", str(site.id)))
    assert await day_percent("Site", site_id) == "92.86"

    operator = await api_key(role="operator")
    planned = await graphql(
        live_server,
        SCHEDULE,
        {
            "station": str(relay.GlobalID("ChargingStation", str(station.id))),
            "connector": connector,
            "from": (at + timedelta(hours=12, minutes=30)).isoformat(),
            "to": (at + timedelta(hours=13)).isoformat(),
        },
        operator,
    )
    assert planned["data"]["scheduleMaintenance"]["__typename"] == "MaintenanceScheduled"
    assert await day_percent("Connector", connector) == "96.43"  # half the fault was planned

    backwards = await graphql(
        live_server,
        SCHEDULE,
        {
            "station": str(relay.GlobalID("ChargingStation", str(station.id))),
            "connector": None,
            "from": at.isoformat(),
            "to": (at - timedelta(hours=1)).isoformat(),
        },
        operator,
    )
    assert backwards["data"]["scheduleMaintenance"]["code"] == "invalid_input"
    driver = await api_key(role="driver")
    hidden = await graphql(
        live_server, REPORT % "Connector", {"id": connector, "day": str(yesterday)}, driver
    )
    assert hidden["errors"][0]["extensions"]["code"] == "not_permitted"
