"""Scale: a whole network of simulated stations over several server processes, on PostgreSQL
and Redis, in four phases on one fleet.

    python -m bench.scale --database-url postgresql://…/cpms_bench_scale --redis-url redis://…
        [--stations 55000] [--charging 8000] [--servers 4] [--simulators 4]
        [--steady 600] [--quick]

1. Ramp: the stations connect (spread over --ramp seconds), boot and report; the charging ones
   start a session each that lasts the whole run.
2. Steady (--steady seconds): heartbeats every 300 s, meter values every 60 s. Meanwhile, in
   this process: a probe station on the first node changes its connector status five times a
   second while a GraphQL subscription on the second node times each event's arrival (event
   visibility); and five remote commands a second (TriggerMessage) go to random stations
   through a random node's GraphQL API (across nodes for most of them).
3. Storm: every station loses the network at the same moment and reconnects at once; the time
   until all are booted and online again, what went wrong meanwhile, and whether every session
   open before it is still open (and the same one) after it.

Roaming partners (--partners, 5) take every EVSE status as OCPI pushes it, from the end of the
ramp on: every station is then placed on a published site of five, and the partners connect
(their locations receivers run in a process of this bench's). During the steady phase ten probe
stations change their connector's status every two seconds each, and the time from each
StatusNotification to its PATCH at every partner is measured; during the storm, how long until
the partners have been sent everything (every EVSE went UNKNOWN and came back).

Every station authenticates with HTTP Basic, as most fleets do (security profile 1): it is
registered with its password on its first connection (trust on first use) and its password is
checked again at each connection, the storm's included.

The database is dropped and created anew. Simulators run in processes of their own, each on its
own loopback source address (127.0.0.2, …), since one address has ~28,000 source ports and one
process 20,000 open files. Result: bench/results/scale.json (and docs/benchmarks.md through
`python -m bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from app.collector import settle_garbage_collector
from bench.ocpi_push import STATUSES as PUSHED_STATUSES
from bench.ocpi_push import latencies as push_latencies
from bench.ocpi_push import partner_statement, sites_statement
from bench.ocpp_ingest import (
    ORGANIZATION_SLUG,
    Server,
    cpms_executable,
    free_port,
    log_summary,
    prepare_database,
    process_table,
    process_tree,
    stop_server,
    wait_ready,
)
from bench.partners import PartnerReceivers
from bench.runner import recreate_database
from bench.summary import row, write_result
from simulator.report import Tally, percentiles
from simulator.run import Plan, identity, run_stations, stations
from simulator.station import OCPP16, Behaviour, SimulatedStation

PREFIX = "SCALE"  # station identities SCALE-000000, ...
PUSH_PROBE_PREFIX = "PROBE-PUSH-"
STATION_PASSWORD = "scale-bench-basic-auth-0123456789"  # 16 to 40 characters
PROBE_RATE_PER_S = 5.0  # status changes and remote commands, each
STORM_TIMEOUT_S = 900.0
RAMP_TIMEOUT_S = 1800.0
SESSION_GRACE_S = 90.0  # after the ramp, for the charging stations to have started
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


PUSH_PROBES = 10  # probe stations whose statuses are timed to the partners
PUSH_PROBE_INTERVAL_S = 2.0  # each changes its status this often (5 changes a second in all)
PUSH_P99_TARGET_MS = 2000.0
PUSHES_SETTLED_AFTER_S = 10.0  # the partners have had everything once nothing came for this long
PER_SITE = 5


@dataclass(frozen=True)
class Fleet:
    stations: int
    charging: int
    servers: int
    simulators: int
    ramp_s: float
    steady_s: float
    partners: int = 5


FULL = Fleet(stations=55_000, charging=8_000, servers=4, simulators=4, ramp_s=480, steady_s=600)
QUICK = Fleet(stations=2_000, charging=300, servers=2, simulators=2, ramp_s=20, steady_s=30)


# --- simulator processes -----------------------------------------------------------------


def simulator_process(plan: Plan, indexes: range, address: str, control: Connection) -> None:
    settle_garbage_collector()
    asyncio.run(_simulate_under_control(plan, indexes, address, control))


async def _simulate_under_control(
    plan: Plan, indexes: range, address: str, control: Connection
) -> None:
    """Run a share of the fleet; answer the bench's requests on the control pipe: `status`
    (how many are online, charging), `tally` (what happened since the last one), `drop` (all
    lose the network now) and `stop`."""
    tally = Tally()
    group = stations(plan, indexes, tally, address)
    fleet = asyncio.create_task(run_stations(plan, group))
    requests: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    loop.add_reader(control.fileno(), lambda: requests.put_nowait(control.recv()))
    while True:
        request = await requests.get()
        if request == "status":
            control.send(
                {
                    "online": sum(station.online.is_set() for station in group),
                    "charging": sum(station.transaction is not None for station in group),
                }
            )
        elif request == "tally":
            control.send((tally.as_dict(), tally.latencies_ms))
            tally = Tally()
            for station in group:
                station.tally = tally
        elif request == "drop":
            for station in group:
                station.drop()
            control.send("dropped")
        elif request == "stop":
            fleet.cancel()
            control.send("stopped")
            return


@dataclass
class Simulators:
    processes: list[multiprocessing.process.BaseProcess] = field(default_factory=list)
    pipes: list[Connection] = field(default_factory=list)

    def ask(self, request: str) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(request)
        return [pipe.recv() for pipe in self.pipes]

    def status(self) -> dict[str, int]:
        answers = self.ask("status")
        return {key: sum(answer[key] for answer in answers) for key in ("online", "charging")}

    def tally(self) -> Tally:
        total = Tally()
        for data, latencies in self.ask("tally"):
            total.merge(Tally.from_dict(data, latencies))
        return total

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


def start_simulators(fleet: Fleet, urls: list[str]) -> Simulators:
    plan = Plan(
        url=urls[0],
        more_urls=tuple(urls[1:]),
        stations=fleet.stations,
        duration_s=86_400,  # the bench stops them
        share_201=0.5,
        prefix=PREFIX,
        password=STATION_PASSWORD,
        ramp_s=fleet.ramp_s,
        session_share=fleet.charging / fleet.stations,
        validate=False,  # the servers check what they get; the simulators' CPU is scarce
        behaviour=Behaviour(
            heartbeat_s=300,
            meter_interval_s=60,
            idle_s=(1, 30),
            session_s=(86_400, 86_400),  # one session each, for the whole run
            fault_chance=0.0,
            drop_chance=0.0,
        ),
    )
    context = multiprocessing.get_context("spawn")
    simulators = Simulators()
    for number in range(fleet.simulators):
        ours, theirs = context.Pipe()
        process = context.Process(
            target=simulator_process,
            args=(
                plan,
                range(number, fleet.stations, fleet.simulators),
                f"127.0.0.{number + 2}",
                theirs,
            ),
            daemon=True,
        )
        process.start()
        simulators.processes.append(process)
        simulators.pipes.append(ours)
    return simulators


# --- servers and what they use -------------------------------------------------------------


def cpms(env: dict[str, str], *arguments: str) -> str:
    """Run a `cpms` command; its last line of output."""
    done = subprocess.run(
        [cpms_executable(), *arguments], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def start_servers(env: dict[str, str], count: int) -> list[Server]:
    servers = []
    for number in range(count):
        port = free_port()
        log_path = Path(tempfile.gettempdir()) / f"scale-node{number}-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [cpms_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env={**env, "CPMS_NODE_ID": f"node-{number}"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        servers.append(Server(process, port, log_path))
    for server in servers:
        wait_ready(server)
    return servers


def rss_bytes(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class Usage:
    """CPU seconds of the servers, the simulators and PostgreSQL/Redis over a phase."""

    def __init__(self, servers: list[Server], simulators: Simulators) -> None:
        self.server_pids = [server.process.pid for server in servers]
        self.simulator_pids = {process.pid for process in simulators.processes if process.pid}
        self.started = time.monotonic()
        self.before = self._read()

    def _servers(self, table: dict[int, tuple[int, str, float]]) -> set[int]:
        """The server processes and their children."""
        return set().union(*(process_tree(table, pid) for pid in self.server_pids))

    def _read(self) -> dict[str, float]:
        table = process_table()
        servers = self._servers(table)
        used = {"servers": 0.0, "simulators": 0.0, "postgres": 0.0, "redis": 0.0}
        for pid, (_, name, cpu) in table.items():
            if pid in servers:
                used["servers"] += cpu
            elif pid in self.simulator_pids:
                used["simulators"] += cpu
            elif name.startswith("postgres"):
                used["postgres"] += cpu
            elif name.startswith("redis"):
                used["redis"] += cpu
        return used

    def cores(self) -> dict[str, float]:
        """Average cores busy per part since the start."""
        elapsed = time.monotonic() - self.started
        after = self._read()
        return {name: round((after[name] - self.before[name]) / elapsed, 3) for name in after}

    def memory(self) -> dict[str, int]:
        servers = self._servers(process_table())
        return {"servers": rss_bytes(servers), "simulators": rss_bytes(self.simulator_pids)}


# --- probes --------------------------------------------------------------------------------


async def event_visibility(
    station: SimulatedStation, subscribe_url: str, token: str, seconds: float
) -> dict[str, Any]:
    """Connector status changes sent on one node, timed until their subscription event arrives
    on another."""
    from tests.graphql_ws import graphql_ws

    query = (
        "subscription ($identity: String!) { connectorStatus(identity: $identity) "
        "{ status occurredAt } }"
    )
    # By the change's own time stamp, which the event carries back: each change is matched
    # to its event, even when events arrive late or out of order.
    sent: dict[datetime, float] = {}
    latencies: list[float] = []
    async with graphql_ws(subscribe_url, token=token) as client:
        await client.subscribe(query, {"identity": station.identity})

        async def receive() -> None:
            while True:
                data = await client.next_data()
                at = sent.pop(datetime.fromisoformat(data["connectorStatus"]["occurredAt"]), None)
                if at is not None:
                    latencies.append((time.perf_counter() - at) * 1000)

        receiver = asyncio.create_task(receive())
        await asyncio.sleep(1)  # the subscription is in place on the other node
        statuses = ("Unavailable", "Available")
        changes = int(seconds * PROBE_RATE_PER_S)
        for number in range(changes):
            change = station._status(1, statuses[number % 2])
            sent[datetime.fromisoformat(change.timestamp)] = time.perf_counter()
            await station.send(change)
            await asyncio.sleep(1 / PROBE_RATE_PER_S)
        await asyncio.sleep(2)
        receiver.cancel()
    return {"changes": changes, "events": len(latencies), "latency_ms": percentiles(latencies)}


async def remote_commands(
    graphql_urls: list[str], token: str, identities: list[str], seconds: float
) -> dict[str, Any]:
    """TriggerMessage to random stations through a random node, at a steady rate."""
    mutation = (
        "mutation ($identity: String!) { triggerMessage(identity: $identity, "
        'message: "Heartbeat") { __typename ... on StationOfflineError { message } } }'
    )
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    examples: dict[str, str] = {}
    chooser = random.Random(7)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:

        async def one(url: str, identity: str) -> None:
            started = time.perf_counter()
            try:
                reply = await client.post(
                    url, json={"query": mutation, "variables": {"identity": identity}}
                )
                answer = reply.json()["data"]["triggerMessage"]
                outcome = answer["__typename"]
                if "message" in answer:
                    examples[outcome] = answer["message"]
            except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
                outcome = type(error).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        pending = []
        for _ in range(int(seconds * PROBE_RATE_PER_S)):
            url, target = chooser.choice(graphql_urls), chooser.choice(identities)
            pending.append(asyncio.create_task(one(url, target)))
            await asyncio.sleep(1 / PROBE_RATE_PER_S)
        await asyncio.gather(*pending)
    return {
        "commands": len(latencies),
        "outcomes": outcomes,
        "examples": examples,
        "latency_ms": percentiles(latencies),
    }


async def push_visibility(
    probes: list[tuple[SimulatedStation, str]],
    receivers: PartnerReceivers,
    partners: int,
    seconds: float,
) -> dict[str, Any]:
    """Each probe station's connector changes status every PUSH_PROBE_INTERVAL_S; per change
    and partner, the time until the partner's locations receiver got it (OCPI PATCH)."""
    sent: dict[str, list[tuple[str, float]]] = defaultdict(list)
    until = time.perf_counter() + seconds

    async def drive(station: SimulatedStation, evse_uid: str) -> None:
        await asyncio.sleep(random.uniform(0, PUSH_PROBE_INTERVAL_S))
        turn = 0
        while time.perf_counter() < until:
            turn += 1
            status, shown = PUSHED_STATUSES[turn % len(PUSHED_STATUSES)]
            sent[evse_uid].append((shown, time.perf_counter()))
            await station.send(station._status(1, status))
            await asyncio.sleep(PUSH_PROBE_INTERVAL_S)

    await asyncio.gather(*(drive(station, uid) for station, uid in probes))
    await asyncio.sleep(5)  # the last changes' pushes
    samples, reports, everywhere = push_latencies(sent, receivers.arrivals(), partners)
    return {
        "changes": reports,
        "delivered_to_every_partner": everywhere,
        "latency_ms": percentiles([sample * 1000 for sample in samples]),
    }


async def place_fleet(database_url: str, partner_ports: list[int]) -> None:
    """Every station of the fleet on a published site of PER_SITE, the operator's OCPI
    identity set, and the partners connected from now on (taken to have pulled the rest)."""
    connection = await asyncpg.connect(database_url)
    try:
        organization_id = await connection.fetchval(
            "UPDATE organization SET country_code = 'DE', party_id = 'SCL' WHERE slug = $1 "
            "RETURNING id",
            ORGANIZATION_SLUG,
        )
        stations_ = await connection.fetchval(
            "SELECT count(*) FROM charging_station WHERE organization = $1", organization_id
        )
        await connection.execute(sites_statement(-(-stations_ // PER_SITE)), organization_id)
        await connection.execute(
            "UPDATE charging_station s SET site = first.id + (ranked.n - 1) / $2 "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM charging_station "
            "WHERE organization = $1) ranked, (SELECT min(id) AS id FROM site "
            "WHERE organization = $1) first WHERE s.id = ranked.id",
            organization_id,
            PER_SITE,
        )
        for number, port in enumerate(partner_ports, start=1):
            await connection.execute(partner_statement(number, port), organization_id)
    finally:
        await connection.close()


async def place_probes(database_url: str, prefix: str) -> list[str]:
    """The probe stations (identities starting with `prefix`) on a published site of their
    own; their EVSEs' OCPI uids, in the order of the identities."""
    connection = await asyncpg.connect(database_url)
    try:
        organization_id = await connection.fetchval(
            "SELECT id FROM organization WHERE slug = $1", ORGANIZATION_SLUG
        )
        site_id = await connection.fetchval(sites_statement(1) + " RETURNING id", organization_id)
        await connection.execute(
            "UPDATE charging_station SET site = $1 WHERE identity LIKE $2", site_id, prefix + "%"
        )
        rows = await connection.fetch(
            "SELECT s.identity, e.id FROM evse e JOIN charging_station s ON s.id = e.station "
            "WHERE s.identity LIKE $1 ORDER BY s.identity",
            prefix + "%",
        )
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


async def pushes_settled(
    receivers: PartnerReceivers, since: float, received_before: int
) -> dict[str, Any]:
    """Once nothing reached the partners for PUSHES_SETTLED_AFTER_S: how many updates they
    got since `received_before`, and when the last came (seconds after `since`)."""
    while True:
        received, last = receivers.activity()
        if time.perf_counter() - max(last, since) >= PUSHES_SETTLED_AFTER_S:
            break
        if time.perf_counter() - since > STORM_TIMEOUT_S:
            break
        await asyncio.sleep(1)
    return {
        "updates": received - received_before,
        "settled_s": round(last - since, 1) if last > since else None,
    }


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout_s: float, every_s: float = 0.5
) -> float | None:
    """Seconds until `check` holds, or None if it did not within the timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if await check():
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(every_s)
    return None


async def open_sessions(database_url: str) -> set[tuple[int, str | None]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT id, transaction_id FROM charging_session WHERE state = 'active'"
        )
    finally:
        await connection.close()
    return {(row["id"], row["transaction_id"]) for row in rows}


# --- the run -----------------------------------------------------------------------------


def tally_summary(tally: Tally, seconds: float) -> dict[str, Any]:
    report = tally.as_dict()
    answered = sum(tally.answered.values())
    return {
        "seconds": round(seconds, 1),
        "sent": sum(tally.sent.values()),
        "answered": answered,
        "answered_per_s": round(answered / seconds, 1) if seconds else None,
        # Timed out or lost with a dropped connection (answers may cross a phase boundary, so
        # sent minus answered would not add up).
        "unanswered": sum(tally.timeouts.values()) + sum(tally.lost.values()),
        **{key: report[key] for key in ("call_errors", "timeouts", "lost_to_dropped_connections")},
        "connect_failures": tally.connect_failures,
        "reply_latency_ms": report["latency_ms"],
        "by_action_answered": dict(tally.answered),
    }


async def run(args: argparse.Namespace, fleet: Fleet) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CPMS_")}
    env.update(
        CPMS_DATABASE_URL=args.database_url,
        CPMS_REDIS_URL=args.redis_url,
        CPMS_LOG_LEVEL="warning",
        CPMS_REGISTRATION_ORGANIZATION=ORGANIZATION_SLUG,
        # Every node's pool within PostgreSQL's 100 connections, with room for the bench.
        CPMS_DB_POOL_MAX_SIZE=str(max(5, 60 // fleet.servers)),
        CPMS_OUTBOUND_ALLOW_PRIVATE="true",  # the partners listen on 127.0.0.1, over http
    )
    parts = urlsplit(args.database_url)
    await recreate_database(parts._replace(path="/postgres").geturl(), parts.path.lstrip("/"))
    prepare_database(env)
    cpms(env, "token", "add", "SIM-RFID", "--organization", ORGANIZATION_SLUG)
    token = cpms(
        env, "apikey", "add", "scale", "--organization", ORGANIZATION_SLUG, "--role", "operator"
    )
    receivers = PartnerReceivers.start(fleet.partners)
    servers = start_servers(env, fleet.servers)
    simulators = Simulators()
    result: dict[str, Any] = {"fleet": {**fleet.__dict__, "station_auth": "HTTP Basic"}}
    try:
        ocpp_urls = [f"{server.url}/ocpp" for server in servers]
        idle_memory = Usage(servers, simulators).memory()
        simulators = start_simulators(fleet, ocpp_urls)
        usage = Usage(servers, simulators)
        result["ramp"] = await ramp(fleet, simulators, usage)
        await place_fleet(args.database_url, receivers.ports)
        memory = usage.memory()
        connected = max(1, result["ramp"]["online"])
        result["memory"] = {
            "servers_idle_bytes": idle_memory["servers"],
            "servers_bytes": memory["servers"],
            "server_bytes_per_connection": (memory["servers"] - idle_memory["servers"])
            // connected,
            "simulator_bytes_per_station": memory["simulators"] // connected,
        }
        result["steady"] = await steady(
            fleet, servers, simulators, token, args.database_url, receivers
        )
        result["storm"] = await storm(args.database_url, simulators, servers, fleet, receivers)
    finally:
        simulators.stop()
        for server in servers:
            stop_server(server)
        receivers.stop()
    result["server_logs"] = [log_summary(server) for server in servers]
    return result


async def ramp(fleet: Fleet, simulators: Simulators, usage: Usage) -> dict[str, Any]:
    started = time.monotonic()

    async def all_online() -> bool:
        return simulators.status()["online"] >= fleet.stations

    seconds = await wait_for(all_online, RAMP_TIMEOUT_S, every_s=2)

    async def all_charging() -> bool:
        return simulators.status()["charging"] >= fleet.charging

    await wait_for(all_charging, SESSION_GRACE_S, every_s=2)
    status = simulators.status()
    tally = simulators.tally()
    print(f"ramp: {status} in {seconds} s", file=sys.stderr)
    return {
        "all_online_s": seconds,
        "online": status["online"],
        "charging": status["charging"],
        "cores_busy": usage.cores(),
        **tally_summary(tally, time.monotonic() - started),
    }


async def steady(
    fleet: Fleet,
    servers: list[Server],
    simulators: Simulators,
    token: str,
    database_url: str,
    receivers: PartnerReceivers,
) -> dict[str, Any]:
    """The fleet at rest for the phase, probes running; what the stations saw."""
    simulators.tally()  # start afresh
    usage = Usage(servers, simulators)
    started = time.monotonic()
    probe_tally = Tally()
    probe = SimulatedStation(
        "PROBE-EVENTS",
        OCPP16,
        f"{servers[0].url}/ocpp",
        Behaviour(sessions=False),
        probe_tally,
    )
    probe_run = asyncio.create_task(probe.run(time.monotonic() + fleet.steady_s + 60))
    await asyncio.wait_for(probe.online.wait(), 60)
    push_probes = [
        SimulatedStation(
            f"{PUSH_PROBE_PREFIX}{number:02d}",
            OCPP16,
            f"{servers[number % len(servers)].url}/ocpp",
            Behaviour(sessions=False),
            probe_tally,
        )
        for number in range(PUSH_PROBES)
    ]
    push_runs = [
        asyncio.create_task(each.run(time.monotonic() + fleet.steady_s + 60))
        for each in push_probes
    ]
    await asyncio.wait_for(asyncio.gather(*(each.online.wait() for each in push_probes)), 60)
    await asyncio.sleep(2)  # their boot statuses are in
    evse_uids = await place_probes(database_url, PUSH_PROBE_PREFIX)
    receivers.watch(evse_uids)
    await asyncio.sleep(5)  # their site reached the partners whole
    receivers.arrivals()  # from now on
    graphql_urls = [f"http://127.0.0.1:{server.port}/graphql" for server in servers]
    naming = Plan(url="", stations=0, duration_s=0, prefix=PREFIX)
    identities = [identity(naming, index) for index in range(fleet.stations)]
    subscriber = f"ws://127.0.0.1:{servers[1 % len(servers)].port}/graphql"
    events, commands, pushes = await asyncio.gather(
        event_visibility(probe, subscriber, token, fleet.steady_s - 5),
        remote_commands(graphql_urls, token, identities, fleet.steady_s - 5),
        push_visibility(
            list(zip(push_probes, evse_uids, strict=True)),
            receivers,
            fleet.partners,
            fleet.steady_s - 10,
        ),
    )
    probe_run.cancel()
    for each in push_runs:
        each.cancel()
    elapsed = time.monotonic() - started
    status = simulators.status()
    print(f"steady: {status}, events {events}, commands {commands}", file=sys.stderr)
    return {
        "online_at_end": status["online"],
        "charging_at_end": status["charging"],
        "cores_busy": usage.cores(),
        "memory": usage.memory(),
        "stations": tally_summary(simulators.tally(), elapsed),
        "event_visibility": events,
        "remote_commands": commands,
        "partner_pushes": pushes,
    }


async def storm(
    database_url: str,
    simulators: Simulators,
    servers: list[Server],
    fleet: Fleet,
    receivers: PartnerReceivers,
) -> dict[str, Any]:
    """Everyone drops at once; until all are back, whether any session was lost, and until
    the partners were sent all of it."""
    before = await open_sessions(database_url)
    charging_before = simulators.status()["charging"]
    simulators.tally()
    usage = Usage(servers, simulators)
    started = time.monotonic()
    received_before, _ = receivers.activity()
    dropped_at = time.perf_counter()
    simulators.ask("drop")

    async def all_back() -> bool:
        return simulators.status()["online"] >= fleet.stations

    seconds = await wait_for(all_back, STORM_TIMEOUT_S)
    cores = usage.cores()
    elapsed = time.monotonic() - started
    tally = simulators.tally()
    await asyncio.sleep(5)  # late replays settle
    after = await open_sessions(database_url)
    status = simulators.status()
    pushes = await pushes_settled(receivers, dropped_at, received_before)
    print(f"storm: back in {seconds} s; {status}; partners {pushes}", file=sys.stderr)
    return {
        "all_online_again_s": seconds,
        "online": status["online"],
        "cores_busy": cores,
        "sessions_open_before": len(before),
        "sessions_open_after": len(after),
        "sessions_lost": len(before - after),
        "sessions_new": len(after - before),
        "charging_before": charging_before,
        "charging_after": status["charging"],
        "partner_pushes": pushes,
        **tally_summary(tally, elapsed),
    }


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    fleet, ramp_, steady_, storm_ = (result[key] for key in ("fleet", "ramp", "steady", "storm"))
    stations_ = steady_["stations"]
    events = steady_["event_visibility"]["latency_ms"]
    commands = steady_["remote_commands"]["latency_ms"]
    command_outcomes = steady_["remote_commands"]["outcomes"]
    stations_held = steady_["online_at_end"]
    p99 = stations_["reply_latency_ms"]["p99"]
    storm_s = storm_["all_online_again_s"]
    pushes = steady_["partner_pushes"]
    push_p99 = pushes["latency_ms"]["p99"]
    pushed_everywhere = pushes["delivered_to_every_partner"] == pushes["changes"]
    return [
        row(
            "stations held",
            stations_held,
            "stations",
            f"{fleet['stations']:,}",
            stations_held >= fleet["stations"],
        ),
        row(
            "sessions charging",
            steady_["charging_at_end"],
            "sessions",
            f"{fleet['charging']:,}",
            steady_["charging_at_end"] >= fleet["charging"],
        ),
        row("server processes", fleet["servers"], "processes"),
        row("ramp: all booted and online", ramp_["all_online_s"], "s"),
        row("steady: messages answered", stations_["answered_per_s"], "msg/s"),
        row(
            "steady: messages unanswered",
            stations_["unanswered"],
            "messages",
            "0",
            stations_["unanswered"] == 0,
        ),
        row("steady: reply p99", p99, "ms", "< 200 ms", p99 is not None and p99 < 200),
        row(
            "server memory per connection",
            result["memory"]["server_bytes_per_connection"] / 1024,
            "KiB",
        ),
        row("server CPU (all nodes)", steady_["cores_busy"]["servers"], "cores"),
        row("PostgreSQL CPU", steady_["cores_busy"]["postgres"], "cores"),
        row(
            "event visibility p99 (across nodes)",
            events["p99"],
            "ms",
            "< 100 ms",
            events["p99"] is not None and events["p99"] < 100,
        ),
        row(
            "remote command p99 (across nodes)",
            commands["p99"],
            "ms",
            "< 300 ms",
            commands["p99"] is not None and commands["p99"] < 300,
        ),
        row(
            "remote commands accepted",
            command_outcomes.get("CommandAccepted", 0),
            "commands",
            f"{steady_['remote_commands']['commands']}",
            command_outcomes.get("CommandAccepted", 0) == steady_["remote_commands"]["commands"],
        ),
        row(
            f"OCPI status push p99 (to {fleet['partners']} partners, all of them)",
            push_p99,
            "ms",
            f"< {PUSH_P99_TARGET_MS:.0f} ms",
            push_p99 is not None and push_p99 < PUSH_P99_TARGET_MS and pushed_everywhere,
        ),
        row(
            "OCPI status changes that reached every partner",
            pushes["delivered_to_every_partner"],
            "changes",
            f"{pushes['changes']}",
            pushed_everywhere,
        ),
        row(
            f"reconnect storm: all back online ({fleet.get('station_auth', 'no auth')})",
            storm_s,
            "s",
            "< 120 s",
            storm_s is not None and storm_s < 120,
        ),
        row(
            f"reconnect storm: back online when it ended ({STORM_TIMEOUT_S:.0f} s at most)",
            storm_["online"],
            "stations",
            f"{fleet['stations']:,}",
            storm_["online"] >= fleet["stations"],
        ),
        row(
            "reconnect storm: sessions lost",
            storm_["sessions_lost"],
            "sessions",
            "0",
            storm_["sessions_lost"] == 0 and storm_["sessions_new"] == 0,
        ),
        row(
            "reconnect storm: last push to the partners after",
            storm_["partner_pushes"]["settled_s"],
            "s",
        ),
    ]


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Fleet]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to recreate")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--quick", action="store_true", help="a small fleet, briefly")
    for name in ("stations", "charging", "servers", "simulators", "partners"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--ramp", type=float, help="seconds over which the stations connect")
    parser.add_argument("--steady", type=float, help="seconds of the steady phase")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres"):
        parser.error("this benchmark runs on PostgreSQL")
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            parser.error(f"{url}: only a local server is allowed")
    fleet = QUICK if args.quick else FULL
    changes = {
        name: value
        for name, value in {
            "stations": args.stations,
            "charging": args.charging,
            "servers": args.servers,
            "simulators": args.simulators,
            "partners": args.partners,
            "ramp_s": args.ramp,
            "steady_s": args.steady,
        }.items()
        if value is not None
    }
    fleet = Fleet(**{**fleet.__dict__, **changes})
    if fleet.stations / fleet.simulators > 19_000:
        parser.error("more simulators: one process holds at most ~19,000 connections here")
    if fleet.servers < 2:
        parser.error("at least two servers: events and commands are measured across nodes")
    return args, fleet


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, fleet = parse_args(argv)
    result = asyncio.run(run(args, fleet))
    result["summary"] = summarize(result)
    path = write_result("scale-quick" if args.quick else "scale", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
