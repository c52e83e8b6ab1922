"""The simulator, briefly, against the real server: stations boot, charge, meter, drop and
replay, fault, and answer remote commands like real ones."""

import asyncio
import json
import sys
from dataclasses import replace

import pytest

from db.tables import ChargingSession, IdToken, Organization
from simulator.report import Tally
from simulator.run import Plan, run_stations, stations
from simulator.station import Behaviour, SimulatedStation
from tests.conftest import REGISTRY_ORGANIZATION, free_port, graphql

QUICK = Behaviour(
    heartbeat_s=0.3,
    meter_interval_s=0.1,
    idle_s=(0.05, 0.2),
    session_s=(0.4, 0.8),
    fault_chance=0.1,
    drop_chance=0.3,
    drop_s=(0.2, 0.4),
)


@pytest.fixture
async def stations_may_register(organization):
    """The registry organization registers unknown stations and knows the simulator's tag."""
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


async def test_a_few_stations_of_both_versions_charge_and_answer(
    live_server, stations_may_register, api_key
):
    plan = Plan(
        url=f"{live_server.ws}/ocpp", stations=4, duration_s=4, share_201=0.5, behaviour=QUICK
    )
    tally = Tally()
    group = stations(plan, range(plan.stations), tally)
    # The one to reset: it never loses the network, so it is online when the reset comes.
    steady = replace(QUICK, drop_chance=0, fault_chance=0)
    group.append(SimulatedStation("SIM-RESET", "ocpp1.6", plan.url, steady, tally))
    run = asyncio.create_task(run_stations(plan, group))
    await asyncio.sleep(1.5)
    operator = await api_key(REGISTRY_ORGANIZATION, "operator")
    reset = await graphql(
        live_server, 'mutation { reset(identity: "SIM-RESET") { __typename } }', token=operator
    )
    await run
    report = tally.as_dict()
    assert report["connects"] >= 5 and report["connect_failures"] == 0
    assert report["call_errors"] == {} and report["timeouts"] == {}
    assert report["sessions"] > 0
    for action in ("BootNotification", "StatusNotification", "Heartbeat"):
        assert report["answered"].get(action), action
    assert report["answered"].get("MeterValues") or report["answered"].get("TransactionEvent")
    assert reset["data"]["reset"]["__typename"] == "CommandAccepted"
    # Our reset, and self-healing's for any station that faulted.
    assert report["commands_received"].get("Reset", 0) >= 1
    assert report["latency_ms"]["p99"] is not None
    assert await ChargingSession.count() > 0


async def test_a_dropped_station_goes_on_with_its_session_after_reconnecting(
    live_server, stations_may_register
):
    """As in a reconnect storm: every station loses the network at once in the middle of a
    session; each reconnects, boots and carries on with the same transaction."""
    # 3.6 MW: 100 Wh a reading, so each reading after the reconnect shows.
    steady = replace(QUICK, session_s=(60, 60), fault_chance=0, drop_chance=0, power_w=3_600_000)
    plan = Plan(url=f"{live_server.ws}/ocpp", stations=2, duration_s=4, behaviour=steady)
    tally = Tally()
    group = stations(plan, range(plan.stations), tally)
    run = asyncio.create_task(run_stations(plan, group))
    await asyncio.sleep(1.5)
    assert await ChargingSession.count() == 2
    before = {row["id"]: row["energy_wh"] for row in await ChargingSession.select()}
    for station in group:
        station.drop()
    await run
    report = tally.as_dict()
    assert report["network_drops"] == 2 and report["connects"] == 4
    assert report["call_errors"] == {} and report["timeouts"] == {}
    sessions = await ChargingSession.select()
    assert {row["id"] for row in sessions} == set(before), "no new session after the reconnect"
    assert all(row["state"] == "active" for row in sessions)
    assert all(row["energy_wh"] > before[row["id"]] for row in sessions), "metering went on"


def test_charging_share_and_urls_are_spread_evenly():
    plan = Plan(url="ws://a", more_urls=("ws://b",), stations=4, duration_s=1, session_share=0.5)
    group = stations(plan, range(4), Tally())
    assert [station.url for station in group] == ["ws://a", "ws://b", "ws://a", "ws://b"]
    assert [station.behaviour.sessions for station in group] == [False, True, False, True]


def test_versions_are_interleaved_by_share():
    from simulator.run import protocol

    plan = Plan(url="ws://x", stations=8, duration_s=1, share_201=0.25)
    versions = [protocol(plan, index) for index in range(8)]
    assert versions.count("ocpp2.0.1") == 2 and versions[3] == "ocpp2.0.1"
    assert [protocol(Plan("ws://x", 3, 1, share_201=1.0), i) for i in range(3)] == ["ocpp2.0.1"] * 3
    assert {protocol(Plan("ws://x", 3, 1, share_201=0.0), i) for i in range(3)} == {"ocpp1.6"}


async def simulate_command(*args: str) -> tuple[int, str, str]:
    """`cpms simulate` as a user runs it: its exit status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "simulate",
        "--stations",
        "2",
        "--no-sessions",
        "--progress-every",
        "0.5",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_simulate_shows_progress_and_succeeds(live_server, stations_may_register):
    status, stdout, stderr = await simulate_command(
        "--url", f"{live_server.ws}/ocpp", "--duration", "4", "--prefix", "PROG"
    )
    assert status == 0, stderr
    progress = [line for line in stderr.splitlines() if " online, " in line]
    assert progress, stderr
    # The last line may come as the run ends and the stations go.
    assert any("2/2 online" in line for line in progress), stderr
    assert all("0 failed connects" in line for line in progress), stderr
    assert json.loads(stdout)["connects"] == 2


async def test_simulate_says_why_stations_could_not_connect(live_server, organization):
    status, _stdout, stderr = await simulate_command(
        "--url", f"{live_server.ws}/ocpp", "--duration", "1.5", "--prefix", "NOBODY"
    )
    assert status == 1
    assert "(most: refused (HTTP 403): not registered, or a wrong password" in stderr
    assert stderr.strip().splitlines()[-1] == (
        "Error: no station could connect: refused (HTTP 403): not registered, or a wrong password"
    )
    status, _stdout, stderr = await simulate_command(
        "--url", f"ws://127.0.0.1:{free_port()}/ocpp", "--duration", "1.5"
    )
    assert status == 1
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("Error: no station could connect: connection refused")
    )
