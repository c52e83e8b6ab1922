"""The simulator, briefly, against the real server: stations boot, charge, meter, drop and
replay, fault, and answer remote commands like real ones."""

import asyncio

from app.simulator.run import Plan, simulate
from app.simulator.station import Behaviour
from db.tables import ChargingSession, IdToken, Organization
from tests.conftest import REGISTRY_ORGANIZATION, graphql

QUICK = Behaviour(
    heartbeat_s=0.3,
    meter_interval_s=0.1,
    idle_s=(0.05, 0.2),
    session_s=(0.4, 0.8),
    fault_chance=0.1,
    drop_chance=0.3,
    drop_s=(0.2, 0.4),
)


async def test_a_few_stations_of_both_versions_charge_and_answer(
    live_server, organization, api_key
):
    await Organization.update({Organization.unknown_station_policy: "auto_register"}).where(
        Organization.slug == REGISTRY_ORGANIZATION
    )
    registry = (
        await Organization.select(Organization.id)
        .where(Organization.slug == REGISTRY_ORGANIZATION)
        .first()
    )
    assert registry is not None
    await IdToken.insert(IdToken(organization=registry["id"], uid=QUICK.id_tag))
    plan = Plan(
        url=f"{live_server.ws}/ocpp", stations=4, duration_s=4, share_201=0.5, behaviour=QUICK
    )
    run = asyncio.create_task(simulate(plan, range(plan.stations)))
    await asyncio.sleep(1.5)
    operator = await api_key(REGISTRY_ORGANIZATION, "operator")
    reset = await graphql(
        live_server,
        'mutation { reset(identity: "SIM-000001") { __typename } }',
        token=operator,
    )
    tally = await run
    report = tally.as_dict()
    assert report["connects"] >= 4 and report["connect_failures"] == 0
    assert report["call_errors"] == {} and report["timeouts"] == {}
    assert report["sessions"] > 0
    for action in ("BootNotification", "StatusNotification", "Heartbeat"):
        assert report["answered"].get(action), action
    assert report["answered"].get("MeterValues") or report["answered"].get("TransactionEvent")
    assert reset["data"]["reset"]["__typename"] == "CommandAccepted"
    assert report["commands_received"].get("Reset") == 1
    assert report["latency_ms"]["p99"] is not None
    assert await ChargingSession.count() > 0


def test_versions_are_interleaved_by_share():
    from app.simulator.run import protocol

    plan = Plan(url="ws://x", stations=8, duration_s=1, share_201=0.25)
    versions = [protocol(plan, index) for index in range(8)]
    assert versions.count("ocpp2.0.1") == 2 and versions[3] == "ocpp2.0.1"
    assert [protocol(Plan("ws://x", 3, 1, share_201=1.0), i) for i in range(3)] == ["ocpp2.0.1"] * 3
    assert {protocol(Plan("ws://x", 3, 1, share_201=0.0), i) for i in range(3)} == {"ocpp1.6"}
