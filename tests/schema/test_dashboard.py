"""Dashboard figures from grouped queries: stations, connectors, sessions, revenue, alerts."""

from datetime import timedelta

from strawberry import relay

from app.demo import load_demo
from app.timeparse import utcnow
from db.tables import Alert, Cdr, ChargingSession, ChargingStation, Connector, Site
from tests.conftest import graphql

DASHBOARD = """
query ($siteId: ID, $from: DateTime, $to: DateTime) {
  dashboard(siteId: $siteId, from: $from, to: $to) {
    stations { total online onlineRatio byStatus { status count }
               connectorsByStatus { status count } }
    sessions { active started energyWh }
    revenue { amountMinor currency }
    openAlerts { severity count }
  }
}
"""


async def test_the_network_at_a_glance_and_one_site(clean_db, unit_of_work, live_server, api_key):
    organization = (await load_demo(unit_of_work())).id
    key = await api_key("demo", "viewer")
    hamburg = await Site.select(Site.id).where(Site.name == "Hamburg Hafen Fast Hub").first()
    assert hamburg is not None
    await ChargingStation.update({ChargingStation.connected: True}).where(
        ChargingStation.identity.is_in(["DEMO-HAM-DC-01", "DEMO-BER-AC-01"])
    )
    await ChargingStation.update({ChargingStation.status: "Faulted"}).where(
        ChargingStation.identity.is_in(["DEMO-HAM-DC-01", "DEMO-HAM-DC-02"])
    )
    ham = await ChargingStation.select().where(ChargingStation.identity == "DEMO-HAM-DC-01").first()
    ber = await ChargingStation.select().where(ChargingStation.identity == "DEMO-BER-AC-01").first()
    assert ham is not None and ber is not None
    await Connector.update({Connector.status: "Charging"}).where(Connector.station == ham["id"])
    now = utcnow()
    sessions = [
        ChargingSession(
            organization=organization,
            station=ham["id"],
            transaction_id="1",
            state="active",
            energy_wh=12_000,
            started_at=now - timedelta(hours=1),
        ),
        ChargingSession(
            organization=organization,
            station=ber["id"],
            transaction_id="2",
            state="completed",
            energy_wh=8_000,
            started_at=now - timedelta(days=2),
        ),
    ]
    await ChargingSession.insert(*sessions)
    await Cdr.insert(
        Cdr(
            organization=organization,
            session=sessions[1].id,
            code="CDR-1",
            currency="EUR",
            started_at=now - timedelta(days=2),
            ended_at=now - timedelta(days=2),
            total_cost_incl_vat_minor=479,
        ),
        Cdr(
            organization=organization,
            session=sessions[0].id,
            code="CDR-2",
            currency="EUR",
            started_at=now - timedelta(hours=1),
            ended_at=now,
            total_cost_incl_vat_minor=1250,
        ),
    )
    await Alert.insert(
        Alert(
            organization=organization,
            station=ham["id"],
            kind="station_offline",
            severity="critical",
            dedupe_key="a",
        ),
        Alert(
            organization=organization,
            station=ber["id"],
            kind="connector_faulted",
            severity="warning",
            dedupe_key="b",
        ),
        Alert(
            organization=organization,
            station=ber["id"],
            kind="stuck_session",
            severity="warning",
            dedupe_key="c",
            status="resolved",
        ),
    )
    everything = (await graphql(live_server, DASHBOARD, {}, key))["data"]["dashboard"]
    assert everything["stations"]["total"] == 5
    assert everything["stations"]["online"] == 2
    assert everything["stations"]["onlineRatio"] == 0.4
    # A station reads as its own last status while connected, OFFLINE while not.
    assert everything["stations"]["byStatus"] == [
        {"status": "FAULTED", "count": 1},
        {"status": "OFFLINE", "count": 3},
        {"status": "UNKNOWN", "count": 1},
    ]
    # Connectors of the three offline stations count as OFFLINE, not as their last status.
    assert everything["stations"]["connectorsByStatus"] == [
        {"status": "CHARGING", "count": 2},
        {"status": "OFFLINE", "count": 6},
        {"status": "UNKNOWN", "count": 2},
    ]
    assert everything["sessions"] == {"active": 1, "started": 2, "energyWh": 20_000}
    assert everything["revenue"] == [{"amountMinor": 1729, "currency": "EUR"}]
    assert everything["openAlerts"] == [
        {"severity": "CRITICAL", "count": 1},
        {"severity": "WARNING", "count": 1},
    ]
    last_day = {
        "siteId": str(relay.GlobalID("Site", str(hamburg["id"]))),
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }
    site = (await graphql(live_server, DASHBOARD, last_day, key))["data"]["dashboard"]
    assert (site["stations"]["total"], site["stations"]["online"]) == (2, 1)
    assert site["sessions"] == {"active": 1, "started": 1, "energyWh": 12_000}
    assert site["revenue"] == [{"amountMinor": 1250, "currency": "EUR"}]
    assert site["openAlerts"] == [{"severity": "CRITICAL", "count": 1}]


async def test_a_driver_gets_no_dashboard(clean_db, unit_of_work, live_server, api_key):
    await load_demo(unit_of_work())
    driver = await api_key("demo", "driver")
    result = await graphql(live_server, "{ dashboard { sessions { active } } }", {}, driver)
    assert result["errors"][0]["extensions"]["code"] == "not_permitted"


async def test_open_alerts_newest_first_with_their_station(
    clean_db, unit_of_work, live_server, api_key
):
    organization = (await load_demo(unit_of_work())).id
    ham = await ChargingStation.select().where(ChargingStation.identity == "DEMO-HAM-DC-01").first()
    assert ham is not None
    await Alert.insert(
        Alert(
            organization=organization,
            station=ham["id"],
            kind="station_offline",
            severity="critical",
            dedupe_key="a",
            message="offline for 10 minutes",
        ),
        Alert(
            organization=organization,
            station=ham["id"],
            kind="stuck_session",
            severity="info",
            dedupe_key="b",
            status="resolved",
        ),
        Alert(
            organization=organization,
            station=ham["id"],
            kind="connector_faulted",
            severity="warning",
            dedupe_key="c",
            message="connector 2 faulted",
        ),
    )
    result = await graphql(
        live_server,
        "{ alerts(filter: { status: OPEN }) { edges { node { id kind severity message"
        " station { identity } } } } }",
        {},
        await api_key("demo", "viewer"),
    )
    alerts = [edge["node"] for edge in result["data"]["alerts"]["edges"]]
    assert [(a["kind"], a["severity"]) for a in alerts] == [
        ("CONNECTOR_FAULTED", "WARNING"),
        ("STATION_OFFLINE", "CRITICAL"),
    ]
    assert alerts[0]["station"] == {"identity": "DEMO-HAM-DC-01"}
    node = await graphql(
        live_server,
        "query ($id: ID!) { node(id: $id) { ... on Alert { kind } } }",
        {"id": alerts[1]["id"]},
        await api_key("demo", "operator"),
    )
    assert node["data"]["node"] == {"kind": "STATION_OFFLINE"}
