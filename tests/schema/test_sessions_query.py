"""Sessions through the API: lists and filters, a driver's own, live connectors, charts, and
a dashboard page whose database queries do not grow with its size."""

from datetime import timedelta

from ocpp.v16 import call
from strawberry import relay

from app.auth.models import Role
from app.auth.service import provision_user
from app.timeparse import utcnow
from db.engine import configured_engine
from db.tables import (
    ChargingSession,
    ChargingStation,
    Connector,
    Evse,
    IdToken,
    Site,
)
from tests.conftest import TEST_ORGANIZATION, graphql

SESSIONS = """
query ($filter: SessionFilterInput, $first: Int! = 50, $after: String) {
  sessions(filter: $filter, first: $first, after: $after) {
    edges { node { transactionId state energyWh station { identity } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
"""


async def add_sessions(organization: int, station_identity: str, specs) -> None:
    station = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == station_identity)
        .first()
    )
    assert station is not None
    now = utcnow()
    await ChargingSession.insert(
        *[
            ChargingSession(
                organization=organization,
                station=station["id"],
                transaction_id=tx,
                state=state,
                user=user,
                energy_wh=energy,
                started_at=now - timedelta(hours=hours_ago),
            )
            for tx, state, user, energy, hours_ago in specs
        ]
    )


def transactions(result) -> list[str]:
    assert "errors" not in result, result
    return [edge["node"]["transactionId"] for edge in result["data"]["sessions"]["edges"]]


async def test_sessions_newest_first_with_filters_and_pages(
    live_server, organization, register, api_key
):
    await register("CP-S1")
    await register("CP-S2")
    await add_sessions(
        organization,
        "CP-S1",
        [("1", "completed", None, 1000, 30), ("2", "active", None, 500, 2)],
    )
    await add_sessions(organization, "CP-S2", [("3", "completed", None, 7000, 1)])
    key = await api_key(role="viewer")
    assert transactions(await graphql(live_server, SESSIONS, token=key)) == ["3", "2", "1"]
    active = await graphql(live_server, SESSIONS, {"filter": {"state": "ACTIVE"}}, key)
    assert transactions(active) == ["2"]
    recent = {"startedFrom": (utcnow() - timedelta(hours=3)).isoformat()}
    assert transactions(await graphql(live_server, SESSIONS, {"filter": recent}, key)) == [
        "3",
        "2",
    ]
    station = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == "CP-S1")
        .first()
    )
    by_station = {"stationId": str(relay.GlobalID("ChargingStation", str(station["id"])))}
    assert transactions(await graphql(live_server, SESSIONS, {"filter": by_station}, key)) == [
        "2",
        "1",
    ]
    first = await graphql(live_server, SESSIONS, {"first": 2}, key)
    after = first["data"]["sessions"]["pageInfo"]["endCursor"]
    rest = await graphql(live_server, SESSIONS, {"first": 2, "after": after}, key)
    assert transactions(first) + transactions(rest) == ["3", "2", "1"]
    assert rest["data"]["sessions"]["pageInfo"]["hasNextPage"] is False
    # The whole list's size, whichever page: finished ones from the tallies, running ones counted.
    assert first["data"]["sessions"]["totalCount"] == 3
    assert active["data"]["sessions"]["totalCount"] == 1
    await ChargingSession.update({ChargingSession.state: "completed"}).where(
        ChargingSession.transaction_id == "2"
    )
    await add_sessions(organization, "CP-S2", [("4", "active", None, 0, 0)])
    totals = await graphql(live_server, SESSIONS, {"first": 1}, key)
    assert totals["data"]["sessions"]["totalCount"] == 4
    finished = await graphql(live_server, SESSIONS, {"filter": {"state": "COMPLETED"}}, key)
    assert finished["data"]["sessions"]["totalCount"] == 3


async def test_a_driver_sees_only_their_own_sessions(
    live_server, organization, register, unit_of_work
):
    await register("CP-D")
    dana = await provision_user(
        unit_of_work(), TEST_ORGANIZATION, "dana@example.com", Role.DRIVER, "password-1"
    )
    await add_sessions(
        organization, "CP-D", [("10", "completed", dana.id, 1, 3), ("11", "completed", None, 1, 2)]
    )
    login = await graphql(
        live_server,
        'mutation { login(organization: "acme", email: "dana@example.com", '
        'password: "password-1") { ... on LoginSuccess { token } } }',
    )
    token = login["data"]["login"]["token"]
    someone_else = str(relay.GlobalID("User", "999999"))
    mine = await graphql(live_server, SESSIONS, {"filter": {"userId": someone_else}}, token)
    assert transactions(mine) == ["10"]  # a filter for someone else is overridden
    assert mine["data"]["sessions"]["totalCount"] == 1
    all_mine = await graphql(live_server, SESSIONS, token=token)
    assert all_mine["data"]["sessions"]["totalCount"] == 1  # not the organization's
    assert mine["data"]["sessions"]["edges"][0]["node"]["station"]["identity"] == "CP-D"


async def test_a_live_session_on_its_connector_and_its_chart(
    live_server, organization, register, api_key, connect_charger
):
    await IdToken.insert(IdToken(organization=organization, uid="CHARTCARD"))
    await register("CP-CHART")
    async with connect_charger("CP-CHART") as station:
        started = await station.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="CHARTCARD",
                meter_start=10_000,
                timestamp="2026-11-23T10:00:00Z",
            )
        )
        for minute in range(0, 60, 5):
            await station.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[
                        {
                            "timestamp": f"2026-11-23T10:{minute:02d}:00Z",
                            "sampledValue": [
                                {
                                    "value": str(10 + minute / 10),
                                    "unit": "kWh",
                                    "measurand": "Energy.Active.Import.Register",
                                },
                                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                            ],
                        }
                    ],
                )
            )
    query = """
    query ($maxPoints: Int!) {
      station(identity: "CP-CHART") {
        connectors {
          evseId
          currentSession {
            transactionId energyWh powerW
            meterValues(maxPoints: $maxPoints) { at energyWh powerW }
          }
        }
      }
    }
    """
    key = await api_key(role="viewer")
    full = await graphql(live_server, query, {"maxPoints": 500}, key)
    session = full["data"]["station"]["connectors"][0]["currentSession"]
    assert session["transactionId"] == str(started.transaction_id)
    assert (session["energyWh"], session["powerW"]) == (5500, 11000)
    points = session["meterValues"]
    assert len(points) == 12
    assert [p["energyWh"] for p in points[:3]] == [0, 500, 1000]
    assert points[-1]["energyWh"] == 5500
    small = await graphql(live_server, query, {"maxPoints": 4}, key)
    chart = small["data"]["station"]["connectors"][0]["currentSession"]["meterValues"]
    assert len(chart) == 4
    assert chart[-1]["energyWh"] == 5500  # the last point is always kept


DASHBOARD_PAGE = """
query ($first: Int!) {
  stations(first: $first) {
    edges { node {
      identity status connected
      site { name }
      connectors { evseId status currentSession { transactionId energyWh powerW } }
    } }
  }
}
"""


async def network(organization: int, count: int) -> None:
    site = Site(organization=organization, name="Big site")
    await site.save()
    for number in range(count):
        station = ChargingStation(
            organization=organization, site=site.id, identity=f"NPLUS1-{number:03d}"
        )
        await station.save()
        for evse_number in (1, 2):
            evse = Evse(station=station.id, evse_id=evse_number)
            await evse.save()
            connector = Connector(station=station.id, evse=evse.id, connector_id=1)
            await connector.save()
            if evse_number == 1:
                await ChargingSession.insert(
                    ChargingSession(
                        organization=organization,
                        station=station.id,
                        evse=evse.id,
                        connector=connector.id,
                        transaction_id=f"T{number}",
                        started_at=utcnow(),
                    )
                )


async def queries_for(server, token: str, first: int, monkeypatch) -> int:
    engine_type = type(configured_engine())
    count = 0
    run = engine_type.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        # Reads only: background writers (presence, last-used times) run meanwhile.
        nonlocal count
        if str(querystring).lstrip().upper().startswith("SELECT"):
            count += 1
        return await run(self, querystring, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(engine_type, "run_querystring", counting)
        result = await graphql(server, DASHBOARD_PAGE, {"first": first}, token)
    assert "errors" not in result, result
    assert len(result["data"]["stations"]["edges"]) == first
    return count


async def test_a_dashboard_page_costs_the_same_queries_for_10_or_50_stations(
    live_server, organization, api_key, monkeypatch
):
    await network(organization, 50)
    key = await api_key(role="viewer")
    await graphql(live_server, "{ viewer { role } }", token=key)  # last-used written once
    # The fewest of three: a background task's read (the tally fold's) may fall in a window.
    small = min([await queries_for(live_server, key, 10, monkeypatch) for _ in range(3)])
    large = min([await queries_for(live_server, key, 50, monkeypatch) for _ in range(3)])
    assert small == large
    assert large <= 5  # key, stations, sites, connectors, sessions


async def test_a_session_leads_to_its_token_and_driver(
    live_server, organization, register, unit_of_work, api_key
):
    dana = await provision_user(
        unit_of_work(), TEST_ORGANIZATION, "dana@example.com", Role.DRIVER, "password-1"
    )
    token = IdToken(organization=organization, uid="DANA-CARD", user=dana.id)
    await token.save()
    await register("CP-LINKS")
    station = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == "CP-LINKS")
        .first()
    )
    assert station is not None
    await ChargingSession.insert(
        ChargingSession(
            organization=organization,
            station=station["id"],
            transaction_id="L1",
            id_token=token.id,
            user=dana.id,
            started_at=utcnow(),
        )
    )
    result = await graphql(
        live_server,
        "{ sessions { edges { node { idToken { uid user { email } } user { email } } } } }",
        token=await api_key(role="viewer"),
    )
    assert result["data"]["sessions"]["edges"] == [
        {
            "node": {
                "idToken": {"uid": "DANA-CARD", "user": {"email": "dana@example.com"}},
                "user": {"email": "dana@example.com"},
            }
        }
    ]
