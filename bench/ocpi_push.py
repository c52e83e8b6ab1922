"""OCPI EVSE status push: how long a status a station reports takes to reach partners.

    python -m bench.ocpi_push --database-url postgresql://…/cpms_bench_push
        [--stations 1000] [--partners 5] [--interval 20] [--duration 60]
        [--write-results] [--quick]

Fills (set-based SQL, on a fresh database) an operator `bench-push` with `--stations`
stations on sites of five (one EVSE of one connector each), and `--partners` connected OCPI
partners whose locations receivers are HTTP servers in this process (uvicorn); starts
`cpms serve`; connects every station over OCPP 1.6 (BootNotification), then has each one
report a new connector status every `--interval` seconds (spread evenly) for `--duration`
seconds. Each receiver notes when each EVSE's PATCH arrives; a status's latency is from the
moment its StatusNotification was sent to the moment a partner received it, for every
partner. Prints p50/p95/p99 and how many statuses reached every partner, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from bench import summary
from bench.ocpp_ingest import (
    cpms_executable,
    frame,
    free_port,
    latency_summary,
    spawn_server,
    stop_server,
    wait_ready,
)

ORGANIZATION = "bench-push"
P99_TARGET_S = 2.0
QUICK = {"stations": 200, "duration": 20.0}
# A connector's statuses in turn, and the OCPI EVSE status each one is pushed as.
STATUSES = [("Available", "AVAILABLE"), ("Charging", "CHARGING")]
PER_SITE = 5


def sites_statement(sites: int) -> str:
    """`sites` published sites of the organization $1, their ids consecutive."""
    return (
        "INSERT INTO site (organization, name, address, city, postal_code, country, latitude, "
        "longitude, time_zone, publish, created_at) SELECT $1, 'Site ' || n, 'Street ' || n, "
        "'Berlin', '10115', 'DEU', 52 + (n % 1000) / 1000.0, 13 + (n / 1000) / 1000.0, "
        f"'Europe/Berlin', true, now() FROM generate_series(1, {sites}) n"
    )


def fill_statements(stations: int, partners: int, receiver_ports: list[int]) -> list[str]:
    sites = -(-stations // PER_SITE)
    statements = [
        sites_statement(sites),
        "INSERT INTO charging_station (organization, site, identity, protocol, status, "
        "connected, registration_status, heartbeat_interval, security_profile, free_vend, "
        "created_at) SELECT $1, (SELECT min(id) FROM site WHERE organization = $1) + "
        f"((n - 1) / {PER_SITE}), 'PUSH-' || lpad(n::text, 6, '0'), 'ocpp1.6', 'Available', "
        f"false, 'Accepted', 300, 0, false, now() FROM generate_series(1, {stations}) n",
        "INSERT INTO evse (station, evse_id, max_power_w) SELECT s.id, 1, 22000 "
        "FROM charging_station s WHERE s.organization = $1",
        "INSERT INTO connector (station, evse, connector_id, standard, format, power_type, "
        "max_voltage, max_amperage, max_power_w, status, status_updated_at) "
        "SELECT e.station, e.id, 1, 'IEC_62196_T2', 'SOCKET', 'AC_3_PHASE', 400, 32, 22000, "
        "'Available', now() FROM evse e JOIN charging_station s ON s.id = e.station "
        "WHERE s.organization = $1",
    ]
    statements += [
        partner_statement(number, port)
        for number, port in enumerate(receiver_ports[:partners], start=1)
    ]
    return statements


def partner_statement(number: int, port: int) -> str:
    """A connected OCPI 2.2.1 partner (with $1 the organization's id) whose locations receiver
    listens on `port`. Pushes start from the status history as it is now, and the partner is
    taken to have pulled everything (no whole Locations, no tariffs)."""
    endpoints = json.dumps(
        [
            {
                "identifier": "locations",
                "role": "RECEIVER",
                "url": f"http://127.0.0.1:{port}/ocpi/2.2.1/locations",
            }
        ]
    )
    digest = hashlib.sha256(f"bench-push-in-{number}".encode()).hexdigest()
    return (
        "INSERT INTO partner (organization, name, country_code, party_id, roles, version, "
        "endpoints, incoming_token_hash, outgoing_token, status, registered_at, "
        "push_cursor, pushed_tariffs, location_cursor, created_at) VALUES ($1, "
        f"'Bench eMSP {number}', 'NL', 'BP{number}', '[\"EMSP\"]', '2.2.1', "
        f"'{endpoints}', '{digest}', 'bench-push-out-{number}', 'connected', now(), "
        "(SELECT coalesce(max(id), 0) FROM status_change), '{}', now(), now())"
    )


async def fill(database_url: str, stations: int, partners: int, ports: list[int]) -> dict[str, int]:
    """The network; each station's identity and its EVSE's row id (the OCPI EVSE uid)."""
    connection = await asyncpg.connect(database_url)
    try:
        organization_id = await connection.fetchval(
            "INSERT INTO organization (name, slug, unknown_station_policy, default_currency, "
            "settings, country_code, party_id, created_at) VALUES ('Bench push', $1, 'reject', "
            "'EUR', '{}', 'DE', 'BPU', now()) RETURNING id",
            ORGANIZATION,
        )
        for statement in fill_statements(stations, partners, ports):
            await connection.execute(statement, organization_id)
        await connection.execute("VACUUM ANALYZE")
        rows = await connection.fetch(
            "SELECT s.identity, e.id FROM evse e JOIN charging_station s ON s.id = e.station "
            "WHERE s.organization = $1",
            organization_id,
        )
        return {row["identity"]: row["id"] for row in rows}
    finally:
        await connection.close()


class Receivers:
    """Partners' locations receivers: when each EVSE's status arrived, per partner (of the
    `watched` EVSEs only, when given), and how many updates came in all (PATCHes and whole
    Locations PUT) and when the last did."""

    def __init__(self, count: int, ports: list[int] | None = None) -> None:
        self.ports = ports or [free_port() for _ in range(count)]
        # (partner number, evse uid) -> [(status, arrived at)]
        self.arrivals: dict[tuple[int, str], list[tuple[str, float]]] = defaultdict(list)
        self.watched: set[str] | None = None
        self.received = 0
        self.last_arrival = 0.0
        self._servers: list[uvicorn.Server] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _app(self, number: int) -> Starlette:
        async def patch(request: Request) -> JSONResponse:
            arrived = self.last_arrival = time.perf_counter()
            self.received += 1
            body = await request.json()
            evse = request.path_params["evse"]
            if self.watched is None or evse in self.watched:
                self.arrivals[(number, evse)].append((body["status"], arrived))
            return JSONResponse({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})

        async def put(request: Request) -> JSONResponse:
            self.last_arrival = time.perf_counter()
            self.received += 1
            return JSONResponse({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})

        base = "/ocpi/2.2.1/locations/{country}/{party}/{location}"
        return Starlette(
            routes=[
                Route(base + "/{evse}", patch, methods=["PATCH"]),
                Route(base, put, methods=["PUT"]),
            ]
        )

    async def start(self) -> None:
        for number, port in enumerate(self.ports, start=1):
            config = uvicorn.Config(
                self._app(number), host="127.0.0.1", port=port, log_level="warning"
            )
            server = uvicorn.Server(config)
            self._servers.append(server)
            self._tasks.append(asyncio.create_task(server.serve()))
        while not all(server.started for server in self._servers):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # uvicorn says it started by a flag only

    async def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def call(
    websocket: ClientConnection, number: int, action: str, payload: dict[str, Any]
) -> None:
    await websocket.send(frame(str(number), action, payload))
    while True:
        reply = json.loads(await websocket.recv())
        if reply[0] == 2:  # the server asks something: refuse it
            await websocket.send(json.dumps([4, reply[1], "NotImplemented", "", {}]))
            continue
        if reply[1] == str(number):
            return


async def admitted(url: str) -> ClientConnection:
    """A connection to the server, trying again a little later when it turns the station
    away (a node admits so many connections at once; a refusal before the handshake reaches
    the client as a 403), as chargers do."""
    while True:
        try:
            return await connect(
                url,
                subprotocols=[Subprotocol("ocpp1.6")],
                compression=None,
                ping_interval=None,
                open_timeout=60,
                max_queue=None,
            )
        except InvalidStatus as error:
            if error.response.status_code not in (403, 429, 503):
                raise
            await asyncio.sleep(float(error.response.headers.get("Retry-After", "1")))


async def station(
    url: str,
    identity: str,
    sent: dict[str, list[tuple[str, float]]],
    evse_uid: str,
    ready: asyncio.Barrier,
    go: asyncio.Event,
    interval_s: float,
    until: list[float],
) -> None:
    async with await admitted(f"{url}/ocpp/{identity}") as websocket:
        boot = {"chargePointVendor": "Bench", "chargePointModel": "Push"}
        await call(websocket, 1, "BootNotification", boot)
        await ready.wait()
        await go.wait()
        await asyncio.sleep(random.uniform(0, interval_s))
        number, turn = 1, 1
        while time.perf_counter() < until[0]:
            number += 1
            status, shown = STATUSES[turn % len(STATUSES)]
            payload = {"connectorId": 1, "errorCode": "NoError", "status": status}
            sent[evse_uid].append((shown, time.perf_counter()))
            await call(websocket, number, "StatusNotification", payload)
            turn += 1
            await asyncio.sleep(interval_s)


def latencies(
    sent: dict[str, list[tuple[str, float]]],
    arrivals: dict[tuple[int, str], list[tuple[str, float]]],
    partners: int,
) -> tuple[list[float], int, int]:
    """Per delivered status and partner, the time from its report to its arrival; how many
    reports there were, and how many reached every partner. A report's arrival is the first
    of its status after it was sent and before the station reported that status again."""
    samples: list[float] = []
    everywhere = 0
    for evse_uid, reported in sent.items():
        for index, (status, sent_at) in enumerate(reported):
            again = next((at for shown, at in reported[index + 1 :] if shown == status), None)
            reached = 0
            for partner in range(1, partners + 1):
                found = next(
                    (
                        at
                        for shown, at in arrivals.get((partner, evse_uid), [])
                        if shown == status and at >= sent_at and (again is None or at < again)
                    ),
                    None,
                )
                if found is not None:
                    samples.append(found - sent_at)
                    reached += 1
            everywhere += reached == partners
    return samples, sum(len(each) for each in sent.values()), everywhere


async def drive(
    url: str, evses: dict[str, int], receivers: Receivers, interval_s: float, duration_s: float
) -> dict[str, Any]:
    sent: dict[str, list[tuple[str, float]]] = defaultdict(list)
    ready = asyncio.Barrier(len(evses) + 1)
    go = asyncio.Event()
    until = [float("inf")]
    tasks = [
        asyncio.create_task(station(url, identity, sent, str(uid), ready, go, interval_s, until))
        for identity, uid in evses.items()
    ]
    async with asyncio.timeout(300):
        await ready.wait()
    # Every station booted: the statuses of the boot round go out first.
    await asyncio.sleep(5)
    receivers.arrivals.clear()
    until[0] = time.perf_counter() + duration_s
    go.set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(5)  # the last statuses' pushes
    samples, reports, everywhere = latencies(sent, receivers.arrivals, len(receivers.ports))
    return {
        "reports": reports,
        "reports_per_s": round(reports / duration_s, 1),
        "delivered_to_every_partner": everywhere,
        **latency_summary([sample * 1000 for sample in samples]),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--partners", type=int, default=5)
    parser.add_argument("--interval", type=float, default=20.0, help="seconds between statuses")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--quick", action="store_true", help="200 stations for 20 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.stations, args.duration = QUICK["stations"], QUICK["duration"]
    if not args.database_url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPMS_")}
    env.update(
        CPMS_DATABASE_URL=args.database_url,
        CPMS_LOG_LEVEL="warning",
        CPMS_OUTBOUND_ALLOW_PRIVATE="true",  # the receivers listen on 127.0.0.1, over http
    )
    subprocess.run([cpms_executable(), "migrate"], env=env, check=True)

    async def run() -> dict[str, Any]:
        receivers = Receivers(args.partners)
        evses = await fill(args.database_url, args.stations, args.partners, receivers.ports)
        port = free_port()
        env["CPMS_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = spawn_server(env, port, f"ocpi_push-{port}")
        await receivers.start()
        try:
            await asyncio.to_thread(wait_ready, server)
            return await drive(server.url, evses, receivers, args.interval, args.duration)
        finally:
            await receivers.stop()
            stop_server(server)

    result = asyncio.run(run())
    print(f"push: {result}", file=sys.stderr)
    p99_s = result["latency_ms_p99"] / 1000
    report = {
        "machine": summary.machine(args.database_url),
        "title": "OCPI EVSE status push",
        "benchmark": "ocpi_push",
        "load": {
            "stations": args.stations,
            "partners": args.partners,
            "interval_s": args.interval,
            "duration_s": args.duration,
        },
        "push": result,
        "summary": [
            summary.row(
                f"status to {args.partners} partners, p99 ({result['reports_per_s']}/s)",
                result["latency_ms_p99"],
                "ms",
                f"< {P99_TARGET_S * 1000:.0f} ms",
                p99_s < P99_TARGET_S and result["delivered_to_every_partner"] == result["reports"],
            ),
            summary.row("p50", result["latency_ms_p50"], "ms", None, None),
            summary.row(
                "statuses that reached every partner",
                result["delivered_to_every_partner"],
                "",
                f"= {result['reports']}",
                result["delivered_to_every_partner"] == result["reports"],
            ),
        ],
    }
    print(json.dumps(report, indent=2))
    if args.write_results:
        summary.write_result("ocpi_push" + ("-quick" if args.quick else ""), report)
    return report


if __name__ == "__main__":
    main()
