"""OCPI locations pull: how long a roaming partner takes to page through a large network.

    python -m bench.ocpi_locations --database-url postgresql://…/cpms_bench_ocpi
        [--stations 55000] [--stations-per-site 5] [--limit 1000] [--write-results] [--quick]

Fills (set-based SQL, on a fresh database) an operator `bench-ocpi` with `--stations` stations
on sites of `--stations-per-site`, two EVSEs of one connector each per station, a tariff for
all, and one registered OCPI partner; starts `cpms serve`, then pulls every Location as an
eMSP does (`GET /ocpi/2.2.1/locations?limit=…`, following `Link` to the end) and prints the
wall time of the whole pull and each page's latency as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
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

ORGANIZATION = "bench-ocpi"
PARTNER_TOKEN = "bench-ocpi-partner-token"
FULL_PULL_TARGET_S = 60.0
QUICK_STATIONS = 5000


def fill_statements(stations: int, per_site: int) -> list[tuple[str, str]]:
    """One statement per table, in dependency order; $1 is the organization id."""
    sites = -(-stations // per_site)
    return [
        (
            "sites",
            "INSERT INTO site (organization, name, address, city, postal_code, country, "
            "latitude, longitude, time_zone, publish, created_at) "
            "SELECT $1, 'Site ' || n, 'Street ' || n, 'Berlin', '10115', 'DEU', "
            "52 + (n % 1000) / 1000.0, 13 + (n / 1000) / 1000.0, 'Europe/Berlin', true, now() "
            f"FROM generate_series(1, {sites}) n",
        ),
        (
            "stations",
            "INSERT INTO charging_station (organization, site, identity, protocol, status, "
            "connected, registration_status, heartbeat_interval, security_profile, free_vend, "
            "created_at) SELECT $1, (SELECT min(id) FROM site WHERE organization = $1) + "
            f"((n - 1) / {per_site}), 'OCPI-' || lpad(n::text, 6, '0'), "
            "CASE WHEN n % 3 = 0 THEN 'ocpp2.0.1' ELSE 'ocpp1.6' END, 'Available', "
            "n % 10 <> 0, 'Accepted', 300, 1, false, now() "
            f"FROM generate_series(1, {stations}) n",
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
            "(ARRAY['Available','Charging','Available','Faulted','Preparing'])[1 + e.id % 5], "
            "now() FROM evse e JOIN charging_station s ON s.id = e.station "
            "WHERE s.organization = $1",
        ),
        (
            "tariff",
            "INSERT INTO tariff (organization, code, name, currency, elements, alt_text, "
            "created_at, updated_at) VALUES ($1, 'AC-BENCH', 'AC', 'EUR', "
            '\'[{"price_components": [{"type": "ENERGY", "price": "0.39", '
            "\"step_size\": 1}]}]', '[]', now(), now())",
        ),
        (
            "tariff assignment",
            "INSERT INTO tariff_assignment (organization, tariff, created_at) "
            "SELECT $1, id, now() FROM tariff WHERE organization = $1",
        ),
        (
            "partner",
            "INSERT INTO partner (organization, name, country_code, party_id, roles, version, "
            "endpoints, incoming_token_hash, status, created_at) VALUES ($1, 'Bench eMSP', "
            "'NL', 'BEN', '[\"EMSP\"]', '2.2.1', '[]', "
            f"'{hashlib.sha256(PARTNER_TOKEN.encode()).hexdigest()}', 'connected', now())",
        ),
    ]


async def fill(database_url: str, stations: int, per_site: int) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        started = time.monotonic()
        organization_id = await connection.fetchval(
            "INSERT INTO organization (name, slug, unknown_station_policy, default_currency, "
            "settings, country_code, party_id, created_at) VALUES ('Bench OCPI', $1, 'reject', "
            "'EUR', '{}', 'DE', 'BEN', now()) RETURNING id",
            ORGANIZATION,
        )
        for label, statement in fill_statements(stations, per_site):
            step = time.monotonic()
            await connection.execute(statement, organization_id)
            print(f"filled {label} in {time.monotonic() - step:.1f} s", file=sys.stderr)
        await connection.execute("VACUUM ANALYZE")
        return {"filled_s": round(time.monotonic() - started, 1)}
    finally:
        await connection.close()


async def pull(base_url: str, limit: int) -> dict[str, Any]:
    """Every page, as an eMSP follows Link; wall time and per-page latency."""
    headers = {"Authorization": "Token " + base64.b64encode(PARTNER_TOKEN.encode()).decode()}
    latencies: list[float] = []
    locations = evses = 0
    url: str | None = f"{base_url}/ocpi/2.2.1/locations?limit={limit}"
    started = time.perf_counter()
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:
        while url:
            page_started = time.perf_counter()
            reply = await client.get(url)
            latencies.append((time.perf_counter() - page_started) * 1000)
            if reply.status_code != 200:
                raise SystemExit(f"{url}: HTTP {reply.status_code}: {reply.text[:300]}")
            data = reply.json()["data"]
            locations += len(data)
            evses += sum(len(each["evses"]) for each in data)
            link = reply.headers.get("Link")
            url = link[1 : link.index(">")] if link else None
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "pages": len(latencies),
        "locations": locations,
        "evses": evses,
        "limit": limit,
        **latency_summary(latencies),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stations", type=int, default=55_000)
    parser.add_argument("--stations-per-site", type=int, default=5)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--quick", action="store_true", help="5,000 stations, to check the set-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.stations = QUICK_STATIONS
    if not args.database_url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPMS_")}
    env.update(CPMS_DATABASE_URL=args.database_url, CPMS_LOG_LEVEL="warning")
    subprocess.run([cpms_executable(), "migrate"], env=env, check=True)
    filled = asyncio.run(fill(args.database_url, args.stations, args.stations_per_site))
    port = free_port()
    env["CPMS_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    server = spawn_server(env, port, f"ocpi_locations-{port}")
    try:
        wait_ready(server)
        result = asyncio.run(pull(f"http://127.0.0.1:{port}", args.limit))
        print(f"pull: {result}", file=sys.stderr)
    finally:
        stop_server(server)
    report = {
        "machine": summary.machine(args.database_url),
        "title": "OCPI locations pull",
        "benchmark": "ocpi_locations",
        "network": {
            "stations": args.stations,
            "sites": -(-args.stations // args.stations_per_site),
            "evses": 2 * args.stations,
        },
        "fill": filled,
        "pull": result,
        "summary": [
            summary.row(
                f"full pull, {args.stations:,} stations, {args.limit} per page",
                result["seconds"],
                "s",
                f"< {FULL_PULL_TARGET_S:.0f} s",
                result["seconds"] < FULL_PULL_TARGET_S and result["evses"] == 2 * args.stations,
            ),
            summary.row("p50 page", result["latency_ms_p50"], "ms", None, None),
            summary.row("p99 page", result["latency_ms_p99"], "ms", None, None),
        ],
    }
    print(json.dumps(report, indent=2))
    if args.write_results:
        summary.write_result("ocpi_locations" + ("-quick" if args.quick else ""), report)
    return report


if __name__ == "__main__":
    main()
