"""GraphQL dashboard queries against a realistic network on PostgreSQL.

    python -m bench.graphql_dashboard --database-url postgresql://…/cpms_dash
        [--requests 200] [--concurrency 4] [--write-results]

The first run fills the organization `bench-dashboard` (55,000 stations in 1,000 sites,
110,000 connectors, 200,000 users, 8,000 running and 100,000 finished sessions with CDRs,
10 million meter samples, 500 open alerts) with set-based SQL; it takes a few minutes and is
reused by later runs. Then it starts `cpms serve`, creates a viewer API key and sends each main
dashboard query `--requests` times (`--concurrency` at once), printing p50/p95/p99 per query
as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import asyncpg
import httpx

from bench import summary
from bench.ocpp_ingest import (
    cpms_executable,
    free_port,
    latency_summary,
    spawn_server,
    stop_server,
    wait_ready,
)

ORGANIZATION = "bench-dashboard"
STATIONS = 55_000
SITES = 1_000
USERS = 200_000
ACTIVE_SESSIONS = 8_000
FINISHED_SESSIONS = 100_000
SAMPLES_PER_ACTIVE = 250  # 2 million
SAMPLES_PER_FINISHED = 80  # 8 million
OPEN_ALERTS = 500
P95_TARGET_MS = 100.0

# Set-based fill: one statement per table, in dependency order. $1 is the organization id.
FILL = [
    (
        "sites",
        "INSERT INTO site (organization, name, country, time_zone, created_at) "
        "SELECT $1, 'Site ' || n, 'DEU', 'Europe/Berlin', now() "
        f"FROM generate_series(1, {SITES}) n",
    ),
    (
        "stations",
        "INSERT INTO charging_station (organization, site, identity, name, vendor, model, "
        "firmware_version, protocol, status, connected, registration_status, heartbeat_interval, "
        "security_profile, free_vend, last_seen_at, created_at, updated_at) "
        "SELECT $1, (SELECT min(id) FROM site WHERE organization = $1) + (n % "
        f"{SITES}), 'DASH-' || lpad(n::text, 6, '0'), 'Bay ' || n, "
        "(ARRAY['ABB','Alpitronic','Alfen','Kempower','Wallbox'])[1 + n % 5], 'M' || (n % 7), "
        "'1.' || (n % 4), CASE WHEN n % 3 = 0 THEN 'ocpp2.0.1' ELSE 'ocpp1.6' END, "
        "(ARRAY['Available','Available','Available','Faulted','Unavailable'])[1 + n % 5], "
        "n % 10 <> 0, 'Accepted', 300, 1, false, now(), now(), now() "
        f"FROM generate_series(1, {STATIONS}) n",
    ),
    (
        "evses",
        "INSERT INTO evse (station, evse_id, max_power_w) "
        "SELECT s.id, e, 22000 FROM charging_station s, generate_series(1, 2) e "
        "WHERE s.organization = $1",
    ),
    (
        "connectors",
        "INSERT INTO connector (station, evse, connector_id, standard, format, power_type, "
        "max_voltage, max_amperage, max_power_w, status, status_updated_at) "
        "SELECT e.station, e.id, 1, 'IEC_62196_T2', 'SOCKET', 'AC_3_PHASE', 400, 32, 22000, "
        "(ARRAY['Available','Charging','Available','Faulted','Preparing'])[1 + e.id % 5], now() "
        "FROM evse e JOIN charging_station s ON s.id = e.station WHERE s.organization = $1",
    ),
    (
        "users",
        "INSERT INTO user_account (organization, email, name, role, active, created_at) "
        "SELECT $1, 'driver' || n || '@bench.example', 'Driver ' || n, 'driver', true, now() "
        f"FROM generate_series(1, {USERS}) n",
    ),
    (
        "active sessions",
        "INSERT INTO charging_session (organization, station, evse, connector, transaction_id, "
        "state, started_at, meter_start_wh, energy_wh, power_w, offline, seq_nos_seen, "
        'created_at, updated_at, "user") '
        "SELECT $1, c.station, c.evse, c.id, 'A' || c.id, 'active', "
        "now() - interval '2 hours', 1000, 15000, 11000, false, '[]', now(), now(), "
        "(SELECT min(id) FROM user_account WHERE organization = $1) + (c.id % "
        f"{USERS}) FROM (SELECT c.* FROM connector c JOIN charging_station s "
        "ON s.id = c.station WHERE s.organization = $1 ORDER BY c.id "
        f"LIMIT {ACTIVE_SESSIONS}) c",
    ),
    (
        "finished sessions",
        "INSERT INTO charging_session (organization, station, evse, connector, transaction_id, "
        "state, started_at, ended_at, meter_start_wh, meter_stop_wh, energy_wh, offline, "
        'seq_nos_seen, created_at, updated_at, "user") '
        "SELECT $1, c.station, c.evse, c.id, 'F' || n, 'completed', "
        "now() - (n % 90) * interval '1 day' - interval '3 hours', "
        "now() - (n % 90) * interval '1 day' - interval '1 hour', 0, 20000, 20000, false, '[]', "
        "now(), now(), (SELECT min(id) FROM user_account WHERE organization = $1) + (n % "
        f"{USERS}) FROM generate_series(1, {FINISHED_SESSIONS}) n "
        "JOIN LATERAL (SELECT c.* FROM connector c WHERE c.id = (SELECT min(c2.id) FROM "
        "connector c2 JOIN charging_station s ON s.id = c2.station WHERE s.organization = $1) "
        f"+ (n % {2 * STATIONS})) c ON true",
    ),
    (
        "cdrs",
        "INSERT INTO cdr (organization, session, code, currency, started_at, ended_at, "
        "total_energy_wh, total_time_s, total_parking_time_s, total_cost_excl_vat_minor, "
        "total_cost_incl_vat_minor, cost_breakdown, charging_periods, credit, created_at) "
        "SELECT $1, cs.id, 'BENCH-' || cs.id, 'EUR', cs.started_at, cs.ended_at, cs.energy_wh, "
        "7200, 0, 800, 952, '{}', '[]', false, now() FROM charging_session cs "
        "WHERE cs.organization = $1 AND cs.state = 'completed'",
    ),
    (
        "meter samples of running sessions",
        "INSERT INTO meter_sample (session, station, connector, sampled_at, measurand, unit, "
        "context, value) SELECT cs.id, cs.station, cs.connector, "
        "cs.started_at + k * interval '30 seconds', "
        "CASE WHEN k % 2 = 0 THEN 'Energy.Active.Import.Register' ELSE 'Power.Active.Import' END, "
        "CASE WHEN k % 2 = 0 THEN 'Wh' ELSE 'W' END, 'Sample.Periodic', "
        "CASE WHEN k % 2 = 0 THEN 1000 + k * 60 ELSE 11000 END "
        f"FROM charging_session cs, generate_series(1, {SAMPLES_PER_ACTIVE}) k "
        "WHERE cs.organization = $1 AND cs.state = 'active'",
    ),
    (
        "meter samples of finished sessions",
        "INSERT INTO meter_sample (session, station, connector, sampled_at, measurand, unit, "
        "context, value) SELECT cs.id, cs.station, cs.connector, "
        "cs.started_at + k * interval '90 seconds', 'Energy.Active.Import.Register', 'Wh', "
        f"'Sample.Periodic', k * 250 FROM charging_session cs, generate_series(1, "
        f"{SAMPLES_PER_FINISHED}) k WHERE cs.organization = $1 AND cs.state = 'completed'",
    ),
    (
        "alerts",
        "INSERT INTO alert (organization, station, kind, severity, status, dedupe_key, message, "
        "details, actions, opened_at) SELECT $1, s.id, 'station_offline', "
        "(ARRAY['info','warning','critical'])[1 + s.id % 3], 'open', 'offline:' || s.id, "
        "'offline', '{}', '[]', now() FROM charging_station s WHERE s.organization = $1 "
        f"ORDER BY s.id LIMIT {OPEN_ALERTS}",
    ),
]

STATION_PAGE = """
query ($after: String) {
  stations(first: 50, after: $after) {
    edges { node { id identity name vendor status connected lastSeenAt site { name }
      connectors { evseId status currentSession { transactionId energyWh powerW } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "dashboard (organization)": (
        "{ dashboard { stations { total online onlineRatio byStatus { status count } "
        "connectorsByStatus { status count } } sessions { active started energyWh } "
        "revenue { amountMinor currency } openAlerts { severity count } } }",
        {},
    ),
    "dashboard (last 30 days)": (
        "query ($from: DateTime) { dashboard(from: $from) { sessions { active started energyWh }"
        " revenue { amountMinor currency } } }",
        {"from": "PERIOD_START"},
    ),
    "stations page (50, connectors, sessions, site)": (STATION_PAGE, {}),
    "stations filtered (offline, vendor)": (
        '{ stations(first: 50, filter: { online: false, vendor: "ABB" }) '
        "{ edges { node { identity status } } } }",
        {},
    ),
    "stations search": (
        '{ stations(first: 20, filter: { search: "DASH-0421" }) { edges { node { identity } } } }',
        {},
    ),
    "active sessions page": (
        "{ sessions(first: 50, filter: { state: ACTIVE }) "
        "{ edges { node { transactionId energyWh powerW station { identity } } } } }",
        {},
    ),
    "stations total": ("{ stations(first: 1) { totalCount } }", {}),
    "stations total (offline)": (
        "{ stations(first: 1, filter: { online: false }) { totalCount } }",
        {},
    ),
    "sessions total": ("{ sessions(first: 1) { totalCount } }", {}),
    "sessions total (completed)": (
        "{ sessions(first: 1, filter: { state: COMPLETED }) { totalCount } }",
        {},
    ),
    "session meter chart (500 points)": (
        "query ($id: ID!) { node(id: $id) { ... on ChargingSession "
        "{ meterValues(maxPoints: 500) { at energyWh powerW } } } }",
        {"id": "SESSION_ID"},
    ),
}


async def wait_folded(database_url: str, limit_s: float = 120.0) -> None:
    """Wait until the server has folded the tally changes the fill left (a bulk load's
    aftermath, not what a dashboard meets in steady operation)."""
    connection = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + limit_s
        while await connection.fetchval("SELECT EXISTS (SELECT 1 FROM tally_change)"):
            if time.monotonic() > deadline:
                raise SystemExit("the server did not fold the tally changes")
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def fill(database_url: str) -> dict[str, Any]:
    """Create the network once; later runs find it and skip the fill."""
    connection = await asyncpg.connect(database_url)
    try:
        organization_id = await connection.fetchval(
            "SELECT id FROM organization WHERE slug = $1", ORGANIZATION
        )
        if organization_id is not None:
            stations = await connection.fetchval(
                "SELECT count(*) FROM charging_station WHERE organization = $1", organization_id
            )
            if stations >= STATIONS:
                # Settled statistics and visibility map (index-only scans), as in production.
                await connection.execute("VACUUM ANALYZE")
                return {"organization_id": organization_id, "filled_s": 0.0, "reused": True}
            raise SystemExit(f"{ORGANIZATION} is half-filled; drop the database and start over")
        started = time.monotonic()
        organization_id = await connection.fetchval(
            "INSERT INTO organization (name, slug, unknown_station_policy, default_currency, "
            "settings, created_at) VALUES ('Bench dashboard', $1, 'reject', 'EUR', '{}', now()) "
            "RETURNING id",
            ORGANIZATION,
        )
        for label, statement in FILL:
            step = time.monotonic()
            await connection.execute(statement, organization_id)
            print(f"filled {label} in {time.monotonic() - step:.1f} s", file=sys.stderr)
        await connection.execute("VACUUM ANALYZE")
        return {
            "organization_id": organization_id,
            "filled_s": round(time.monotonic() - started, 1),
            "reused": False,
        }
    finally:
        await connection.close()


async def a_session_id(database_url: str, organization_id: int) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        session_id = await connection.fetchval(
            "SELECT id FROM charging_session WHERE organization = $1 AND state = 'active' "
            "ORDER BY id LIMIT 1",
            organization_id,
        )
    finally:
        await connection.close()
    import base64

    return base64.b64encode(f"ChargingSession:{session_id}".encode()).decode()


def api_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            cpms_executable(),
            "apikey",
            "add",
            "bench",
            "--organization",
            ORGANIZATION,
            "--role",
            "viewer",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


async def measure(
    url: str, token: str, query: str, variables: dict[str, Any], requests: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def one() -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                reply = await client.post("/graphql", json={"query": query, "variables": variables})
                latencies.append((time.perf_counter() - started) * 1000)
                if reply.status_code != 200 or reply.json().get("errors"):
                    errors += 1

        await one()  # warm-up (prepared statements, caches)
        latencies.clear()
        await asyncio.gather(*(one() for _ in range(requests)))
    return {"requests": requests, "errors": errors, **latency_summary(latencies)}


def clients_label(concurrency: int) -> str:
    return "1 client" if concurrency == 1 else f"{concurrency} clients"


def summary_rows(queries: dict[str, dict[str, Any]], concurrency: int) -> list[dict[str, Any]]:
    """p95 of each query against its target; a query that returned errors misses it."""
    return [
        summary.row(
            f"p95 {name}, {clients_label(concurrency)}",
            figures["latency_ms_p95"],
            "ms",
            f"< {P95_TARGET_MS:.0f} ms",
            figures["errors"] == 0 and figures["latency_ms_p95"] < P95_TARGET_MS,
        )
        for name, figures in queries.items()
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPMS_")}
    env.update(CPMS_DATABASE_URL=args.database_url, CPMS_LOG_LEVEL="warning")
    subprocess.run([cpms_executable(), "migrate"], env=env, check=True)
    filled = asyncio.run(fill(args.database_url))
    token = api_key(env)
    session_node = asyncio.run(a_session_id(args.database_url, filled["organization_id"]))
    port = free_port()
    server = spawn_server(env, port, f"graphql_dashboard-{port}")
    period_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30 * 86400))
    results: dict[str, Any] = {}
    try:
        wait_ready(server)
        asyncio.run(wait_folded(args.database_url))
        for name, (query, variables) in QUERIES.items():
            resolved = {
                key: {"PERIOD_START": period_start, "SESSION_ID": session_node}.get(value, value)
                for key, value in variables.items()
            }
            results[name] = asyncio.run(
                measure(
                    f"http://127.0.0.1:{port}",
                    token,
                    query,
                    resolved,
                    args.requests,
                    args.concurrency,
                )
            )
            print(f"{name}: {results[name]}", file=sys.stderr)
    finally:
        stop_server(server)
    report = {
        "title": f"GraphQL dashboard, {clients_label(args.concurrency)}",
        "benchmark": "graphql_dashboard",
        "network": {
            "stations": STATIONS,
            "connectors": 2 * STATIONS,
            "users": USERS,
            "active_sessions": ACTIVE_SESSIONS,
            "finished_sessions": FINISHED_SESSIONS,
            "meter_samples": ACTIVE_SESSIONS * SAMPLES_PER_ACTIVE
            + FINISHED_SESSIONS * SAMPLES_PER_FINISHED,
        },
        "fill": filled,
        "concurrency": args.concurrency,
        "queries": results,
        "summary": summary_rows(results, args.concurrency),
    }
    print(json.dumps(report, indent=2))
    if args.write_results:
        summary.write_result(f"graphql_dashboard-concurrency{args.concurrency}", report)


if __name__ == "__main__":
    main()
