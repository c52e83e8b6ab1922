"""OCPP ingest: many simulated stations against the /ocpp websocket, one message in flight each.

    python -m bench.ocpp_ingest [--url ws://127.0.0.1:8000] [--stations 200] [--duration 20]
        [--warmup 3] [--protocol ocpp1.6|ocpp2.0.1|mix] [--client-processes 1]
        [--start-server --database-url postgresql://…|sqlite:////… [--redis-url redis://…]]
        [--no-db-write] [--write-results]

Each station connects to ws://HOST/ocpp/BENCH-<run>-<n>, boots, then sends Heartbeat,
StatusNotification and MeterValues in turn, waiting for each reply before the next. Replies
(CALLRESULT) received after the warm-up, during the measured window, give messages/s and
reply latency; CALLERRORs are counted apart. Prints JSON; only targets 127.0.0.1/localhost.

With --start-server the bench migrates the database, creates (or fixes) the organization
`bench` with unknown_station_policy=auto_register, runs `cpms serve` on a free port with
CPMS_REGISTRATION_ORGANIZATION=bench, and stops it with SIGTERM afterwards.

`levels()` repeats such runs at increasing offered rates for `python -m bench ingest`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from bench import summary

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
PROTOCOLS = (OCPP16, OCPP201, "mix")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ORGANIZATION_SLUG = "bench"
MAX_STATIONS = 5000
MAX_DURATION_S = 600.0
MAX_CLIENT_PROCESSES = 16
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CALL, CALLRESULT, CALLERROR = 2, 3, 4
ROTATION = ("Heartbeat", "StatusNotification", "MeterValues")
CLIENT_BOUND_FRACTION = 0.9  # a process busier than this (of one core) is the limit
SERVER_READY_TIMEOUT_S = 90.0
BUSY_HOST_FRACTION = 0.2  # host busier than this before the run: other work skews the numbers
SERVER_STOP_TIMEOUT_S = 20.0


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted list (0.0 when empty)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_summary(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in milliseconds, rounded."""
    return {
        "latency_ms_p50": round(percentile(samples, 0.50), 3),
        "latency_ms_p95": round(percentile(samples, 0.95), 3),
        "latency_ms_p99": round(percentile(samples, 0.99), 3),
        "latency_ms_max": round(max(samples, default=0.0), 3),
    }


def now_iso() -> str:
    """The current UTC time as OCPP likes it: 2024-01-01T00:00:00.000Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def frame(message_id: str, action: str, payload: dict[str, Any]) -> str:
    """An OCPP-J CALL frame."""
    return json.dumps([CALL, message_id, action, payload], separators=(",", ":"))


def boot_payload(protocol: str) -> dict[str, Any]:
    """BootNotification for the given OCPP version."""
    if protocol == OCPP16:
        return {"chargePointVendor": "Bench", "chargePointModel": "Ingest"}
    return {"chargingStation": {"model": "Ingest", "vendorName": "Bench"}, "reason": "PowerUp"}


def rotation_payload(protocol: str, action: str, step: int, energy_wh: int) -> dict[str, Any]:
    """Heartbeat, StatusNotification or MeterValues for connector 1 / EVSE 1."""
    if action == "Heartbeat":
        return {}
    charging = (step // len(ROTATION)) % 2 == 1
    if protocol == OCPP16:
        if action == "StatusNotification":
            status = "Charging" if charging else "Available"
            return {"connectorId": 1, "errorCode": "NoError", "status": status}
        sampled = [{"value": str(energy_wh)}]
        return {"connectorId": 1, "meterValue": [{"timestamp": now_iso(), "sampledValue": sampled}]}
    if action == "StatusNotification":
        return {
            "timestamp": now_iso(),
            "connectorStatus": "Occupied" if charging else "Available",
            "evseId": 1,
            "connectorId": 1,
        }
    sampled_201 = [{"value": float(energy_wh)}]
    return {"evseId": 1, "meterValue": [{"timestamp": now_iso(), "sampledValue": sampled_201}]}


@dataclass
class Window:
    """The measured interval, in time.monotonic() seconds (system-wide on Linux)."""

    start: float = 0.0
    end: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Tally:
    """What one client process saw."""

    connected: int = 0
    boot_statuses: Counter[str] = field(default_factory=Counter)
    connect_failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    by_action: dict[str, list[float]] = field(default_factory=dict)
    call_errors: Counter[str] = field(default_factory=Counter)
    call_errors_total: int = 0  # whole run, warm-up included
    timeouts: int = 0
    disconnects: Counter[str] = field(default_factory=Counter)
    server_calls: Counter[str] = field(default_factory=Counter)
    connect_boot_s: float = 0.0
    cpu_s: float = 0.0
    window_s: float = 0.0
    server_cpu_s: float | None = None  # measured by the first client process only
    host_cpu_busy_fraction: float | None = None
    other_cpu_by_name: dict[str, float] | None = None


class StationFailed(Exception):
    """The station cannot go on (timeout, protocol desync); the reason is the message."""


class Station:
    """One simulated charger with a single request outstanding at a time."""

    def __init__(
        self,
        url: str,
        identity: str,
        protocol: str,
        reply_timeout_s: float,
        interval_s: float = 0.0,
        offset_s: float = 0.0,
    ) -> None:
        self.url = f"{url}/ocpp/{identity}"
        # With a target rate each station sends every interval_s (offset so they spread out);
        # 0 means as fast as answers come back (closed loop).
        self.interval_s = interval_s
        self.offset_s = offset_s
        self.identity = identity
        self.protocol = protocol
        self.reply_timeout_s = reply_timeout_s
        self.next_id = 0
        self.energy_wh = 0

    async def request(
        self, websocket: ClientConnection, action: str, payload: dict[str, Any], tally: Tally
    ) -> tuple[list[Any], float, float]:
        """Send one CALL and wait for its answer: (reply frame, sent at, received at)."""
        self.next_id += 1
        message_id = str(self.next_id)
        sent_at = time.monotonic()
        await websocket.send(frame(message_id, action, payload))
        async with asyncio.timeout(self.reply_timeout_s):
            while True:
                reply = json.loads(await websocket.recv())
                received_at = time.monotonic()
                if reply[0] == CALL:  # the server asks something: refuse, keep waiting
                    tally.server_calls[str(reply[2])] += 1
                    refusal = [CALLERROR, reply[1], "NotImplemented", "bench station", {}]
                    await websocket.send(json.dumps(refusal, separators=(",", ":")))
                    continue
                if reply[1] == message_id:
                    return reply, sent_at, received_at
                if reply[0] == CALLERROR:  # a framing error ("-1") or a stray id
                    tally.call_errors_total += 1
                    tally.call_errors[f"{reply[2]} (id {reply[1]})"] += 1
                    raise StationFailed(f"CALLERROR for unknown id {reply[1]}")
                raise StationFailed(f"reply for unknown id {reply[1]}")

    async def run(self, tally: Tally, booted: asyncio.Event, window: Window) -> None:
        """Connect, boot, report booted, then loop until the window closes."""
        try:
            websocket = await connect(
                self.url,
                subprotocols=[Subprotocol(self.protocol)],
                compression=None,  # what most chargers do; also the cheaper path on both sides
                proxy=None,
                open_timeout=60,
                ping_interval=None,  # keepalive pings would be noise in a short run
                close_timeout=5,
                max_queue=None,
            )
        except InvalidStatus as error:
            tally.connect_failures[f"HTTP {error.response.status_code}"] += 1
            booted.set()
            return
        except (OSError, TimeoutError, WebSocketException) as error:
            tally.connect_failures[type(error).__name__] += 1
            booted.set()
            return
        try:
            tally.connected += 1
            reply, _, _ = await self.request(
                websocket, "BootNotification", boot_payload(self.protocol), tally
            )
            if reply[0] == CALLRESULT:
                tally.boot_statuses[str(reply[2].get("status"))] += 1
            else:
                tally.boot_statuses[f"CALLERROR {reply[2]}"] += 1
            booted.set()
            await window.started.wait()
            step = 0
            next_at = time.monotonic() + self.offset_s
            while not window.stop.is_set():
                if self.interval_s:
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                    next_at += self.interval_s
                action = ROTATION[step % len(ROTATION)]
                if action == "MeterValues":
                    self.energy_wh += 37
                payload = rotation_payload(self.protocol, action, step, self.energy_wh)
                step += 1
                reply, sent_at, received_at = await self.request(websocket, action, payload, tally)
                if reply[0] == CALLERROR:
                    tally.call_errors_total += 1
                if not window.start <= received_at < window.end:
                    continue
                if reply[0] == CALLRESULT:
                    latency_ms = (received_at - sent_at) * 1000
                    tally.latencies_ms.append(latency_ms)
                    tally.by_action.setdefault(action, []).append(latency_ms)
                else:
                    tally.call_errors[f"{action}: {reply[2]} {reply[3]}"[:160]] += 1
        except TimeoutError:
            tally.timeouts += 1
        except StationFailed as error:
            tally.disconnects[str(error)] += 1
        except ConnectionClosed as error:
            if not window.stop.is_set():
                code = error.rcvd.code if error.rcvd else None
                tally.disconnects[f"closed by server ({code})"] += 1
        finally:
            booted.set()
            with contextlib.suppress(Exception):
                await websocket.close()


def cpu_seconds() -> float:
    """CPU (user + system) used by this process so far."""
    return time.process_time()


async def run_stations(
    url: str,
    identities: list[tuple[str, str]],
    warmup_s: float,
    duration_s: float,
    reply_timeout_s: float,
    connect_concurrency: int,
    barrier: Any = None,
    measure_pid: int | None = None,
    bench_pid: int = 0,
    interval_s: float = 0.0,
) -> Tally:
    """Run this process's share of the stations; `barrier` lines processes up after booting.

    With `measure_pid` (0: no server), also measure server and host CPU over the window."""
    tally = Tally()
    window = Window()
    slots = asyncio.Semaphore(connect_concurrency)
    stations = [
        Station(
            url,
            identity,
            protocol,
            reply_timeout_s,
            interval_s,
            interval_s * index / max(1, len(identities)),
        )
        for index, (identity, protocol) in enumerate(identities)
    ]
    booted_events = [asyncio.Event() for _ in stations]

    async def start(station: Station, booted: asyncio.Event) -> None:
        """Run a station, holding a connect slot until it has booted."""
        async with slots:
            task = asyncio.create_task(station.run(tally, booted, window))
            await booted.wait()
        await task

    started = time.monotonic()
    tasks = [
        asyncio.create_task(start(station, booted))
        for station, booted in zip(stations, booted_events, strict=True)
    ]
    for booted in booted_events:
        await booted.wait()
    tally.connect_boot_s = time.monotonic() - started
    if tally.connected == 0 and barrier is None:  # nothing to measure
        tally.window_s = duration_s
        await asyncio.gather(*tasks, return_exceptions=True)
        return tally
    if barrier is not None:
        await asyncio.to_thread(barrier.wait, 120)
    window.start = time.monotonic() + warmup_s
    window.end = window.start + duration_s
    window.started.set()
    await asyncio.sleep(max(0.0, window.start - time.monotonic()))
    cpu_at_start = cpu_seconds()
    meter = CpuMeter(measure_pid, bench_pid) if measure_pid is not None else None
    await asyncio.sleep(max(0.0, window.end - time.monotonic()))
    tally.cpu_s = cpu_seconds() - cpu_at_start
    if meter is not None:
        tally.server_cpu_s, tally.host_cpu_busy_fraction, tally.other_cpu_by_name = meter.read()
    tally.window_s = duration_s
    window.stop.set()
    # Every station ends after its outstanding reply (or its reply timeout).
    await asyncio.wait(tasks, timeout=reply_timeout_s + 10)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return tally


def tally_to_dict(tally: Tally) -> dict[str, Any]:
    """A picklable form of a tally, for multiprocessing."""
    return tally.__dict__.copy()


def client_process(
    url: str,
    identities: list[tuple[str, str]],
    options: dict[str, float],
    barrier: Any,
    results: Any,
    measure_pid: int | None,
) -> None:
    """Entry point of one client process: run its stations, put the tally on the queue."""
    tally = asyncio.run(
        run_stations(
            url,
            identities,
            options["warmup"],
            options["duration"],
            options["reply_timeout"],
            int(options["connect_concurrency"]),
            barrier,
            measure_pid,
            os.getppid(),
            options["interval"],
        )
    )
    results.put(tally_to_dict(tally))


def run_clients(
    url: str,
    identities: list[tuple[str, str]],
    processes: int,
    options: dict[str, float],
    server_pid: int | None,
) -> list[Tally]:
    """Run the stations in this process, or spread them over `processes` client processes."""
    measure_pid = server_pid or 0
    if processes == 1:
        return [
            asyncio.run(
                run_stations(
                    url,
                    identities,
                    options["warmup"],
                    options["duration"],
                    options["reply_timeout"],
                    int(options["connect_concurrency"]),
                    None,
                    measure_pid,
                    os.getpid(),
                    options["interval"],
                )
            )
        ]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=client_process,
            args=(
                url,
                identities[index::processes],
                options,
                barrier,
                results,
                measure_pid if index == 0 else None,
            ),
            daemon=True,
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    limit = options["warmup"] + options["duration"] + options["reply_timeout"] + 300
    tallies = []
    try:
        for _ in workers:
            tallies.append(Tally(**results.get(timeout=limit)))
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    return tallies


def merge(tallies: list[Tally]) -> Tally:
    """One tally with the counts summed and the samples pooled."""
    total = Tally()
    for tally in tallies:
        total.connected += tally.connected
        total.boot_statuses.update(tally.boot_statuses)
        total.connect_failures.update(tally.connect_failures)
        total.latencies_ms.extend(tally.latencies_ms)
        for action, samples in tally.by_action.items():
            total.by_action.setdefault(action, []).extend(samples)
        total.call_errors.update(tally.call_errors)
        total.call_errors_total += tally.call_errors_total
        total.timeouts += tally.timeouts
        total.disconnects.update(tally.disconnects)
        total.server_calls.update(tally.server_calls)
        total.connect_boot_s = max(total.connect_boot_s, tally.connect_boot_s)
        total.cpu_s += tally.cpu_s
        total.window_s = max(total.window_s, tally.window_s)
        if tally.server_cpu_s is not None:
            total.server_cpu_s = tally.server_cpu_s
        if tally.host_cpu_busy_fraction is not None:
            total.host_cpu_busy_fraction = tally.host_cpu_busy_fraction
        if tally.other_cpu_by_name is not None:
            total.other_cpu_by_name = tally.other_cpu_by_name
    return total


# --- the server under test -------------------------------------------------------------------


PREPARE_DATABASE = """
import asyncio, contextlib, io, json, sys
async def prepare():
    from db.migrate import migrate_forwards
    from db.tables import Organization
    await migrate_forwards()
    slug, policy = "{slug}", "auto_register"
    if await Organization.exists().where(Organization.slug == slug):
        await Organization.update({{Organization.unknown_station_policy: policy}}).where(
            Organization.slug == slug
        )
    else:
        await Organization(name="Bench", slug=slug, unknown_station_policy=policy).save()
    from app.config import Settings
    return {{"dry_run_setting": "ocpp_dry_run" in Settings.model_fields}}
with contextlib.redirect_stdout(io.StringIO()):  # Piccolo prints migration progress
    result = asyncio.run(prepare())
print(json.dumps(result))
"""


def prepare_database(env: dict[str, str]) -> dict[str, Any]:
    """Migrate and create the auto-registering organization, in a subprocess of its own.

    The project reads CPMS_DATABASE_URL when first imported, so a fresh interpreter is used."""
    done = subprocess.run(
        [sys.executable, "-c", PREPARE_DATABASE.format(slug=ORGANIZATION_SLUG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"preparing the database failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpms_executable() -> str:
    """The `cpms` script of this virtualenv."""
    candidate = Path(sys.executable).parent / "cpms"
    if not candidate.exists():
        raise SystemExit(f"no cpms command next to {sys.executable}; is the project installed?")
    return str(candidate)


def process_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, user + system CPU seconds) of every process, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name == "postgres":  # one per connection: name it by its database
            name = postgres_label(entry)
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / ticks)
    return table


def postgres_label(entry: Path) -> str:
    """`postgres[database]` for a backend ("postgres: 15/main: user db host ..."), else postgres."""
    try:
        words = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().split()
    except (OSError, UnicodeDecodeError):
        return "postgres"
    return f"postgres[{words[3]}]" if len(words) >= 5 and words[0] == "postgres:" else "postgres"


def process_tree(table: dict[int, tuple[int, str, float]], root: int) -> set[int]:
    """`root` and its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    tree, pending = set(), [root]
    while pending:
        current = pending.pop()
        tree.add(current)
        pending.extend(children.get(current, []))
    return tree


def others_busy_fraction(server_pid: int, seconds: float) -> float:
    """How busy the host's CPUs are with work other than ours (bench, server) for `seconds`."""
    meter = CpuMeter(server_pid, os.getpid())
    time.sleep(seconds)
    _, _, others = meter.read()
    return sum(others.values()) / (seconds * (os.cpu_count() or 1))


def host_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU used from construction to read(): the server's, the host's and other processes'."""

    def __init__(self, server_pid: int, bench_pid: int) -> None:
        self.server_pid = server_pid  # 0: no server of ours
        self.bench_pid = bench_pid  # the bench's main process: its tree is not "other"
        self.table_before = process_table()
        self.host_before = host_cpu_ticks()

    def read(self) -> tuple[float | None, float, dict[str, float]]:
        """(server CPU s or None, fraction of host cores busy, other processes' CPU s by name)."""
        busy_after, total_after = host_cpu_ticks()
        table = process_table()
        busy, total = busy_after - self.host_before[0], total_after - self.host_before[1]
        used = {
            pid: cpu - self.table_before[pid][2] if pid in self.table_before else cpu
            for pid, (_, _, cpu) in table.items()
        }
        server = None
        if self.server_pid:
            tree = process_tree(table, self.server_pid)
            server = sum((used[pid] for pid in tree if pid in used), 0.0)
        others: dict[str, float] = {}
        ours = process_tree(table, self.bench_pid)
        for pid, cpu in used.items():
            if pid not in ours and cpu > 0:
                others[table[pid][1]] = others.get(table[pid][1], 0.0) + cpu
        busiest = sorted(others.items(), key=lambda item: -item[1])[:6]
        top = {name: round(cpu, 2) for name, cpu in busiest}
        return server, busy / total if total else 0.0, top


@dataclass
class Server:
    """A `cpms serve` subprocess and where its log goes."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def spawn_server(env: dict[str, str], port: int, log_name: str) -> Server:
    """`cpms serve` on 127.0.0.1:`port` with this environment, its output in a log file."""
    log_path = Path(tempfile.gettempdir()) / f"{log_name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [cpms_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(process, port, log_path)


def start_server(args: argparse.Namespace, run_id: str) -> Server:
    """Prepare the database, start `cpms serve` on a free port and wait until /readyz is 200."""
    env = os.environ.copy()
    env["CPMS_DATABASE_URL"] = args.database_url
    env.pop("CPMS_REDIS_URL", None)
    if args.redis_url:
        env["CPMS_REDIS_URL"] = args.redis_url
    env["CPMS_LOG_LEVEL"] = "warning"
    env["CPMS_REGISTRATION_ORGANIZATION"] = ORGANIZATION_SLUG
    args.server_info = prepare_database(env)
    if args.no_db_write:
        env["CPMS_OCPP_DRY_RUN"] = "1"
    server = spawn_server(env, free_port(), f"ocpp_ingest-server-{run_id}")
    try:
        wait_ready(server)
    except BaseException:  # not ready, or interrupted: do not leave it running
        stop_server(server)
        raise
    return server


def wait_ready(server: Server) -> None:
    """Poll GET /readyz until it answers 200; give up when the server exits or after a while."""
    deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            status = server.process.returncode
            raise SystemExit(f"cpms serve exited with {status}:\n{log_tail(server)}")
        try:
            ready_url = f"http://127.0.0.1:{server.port}/readyz"
            with urllib.request.urlopen(ready_url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"cpms serve not ready after {SERVER_READY_TIMEOUT_S}s:\n{log_tail(server)}")


def stop_server(server: Server) -> int | None:
    """SIGTERM the server, SIGKILL it if it does not stop in time; its exit status."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    return server.process.returncode


def log_tail(server: Server, lines: int = 30) -> str:
    """The last lines the server wrote."""
    try:
        return "\n".join(server.log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def log_summary(server: Server) -> dict[str, Any]:
    """Warning/error lines in the server's log: a count and the most frequent messages."""
    messages: Counter[str] = Counter()
    for line in server.log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            text = f"{record.get('levelname', record.get('level', '?'))}: {record.get('message')}"
        except (ValueError, AttributeError):
            text = line.strip()
        if text:
            messages[text[:200]] += 1
    return {
        "server_log": str(server.log_path),
        "server_log_lines": sum(messages.values()),
        "server_log_top": dict(messages.most_common(8)),
    }


# --- the run ---------------------------------------------------------------------------------


def check_local(url: str) -> str:
    """The URL without a trailing slash; refuse anything but ws://127.0.0.1 or localhost."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname not in LOCAL_HOSTS:
        raise SystemExit(f"refusing {url!r}: only ws://127.0.0.1 or ws://localhost is allowed")
    return url.rstrip("/")


def plan_identities(run_id: str, stations: int, protocol: str) -> list[tuple[str, str]]:
    """(identity, subprotocol) per station; `mix` alternates 1.6 and 2.0.1."""
    return [
        (
            f"BENCH-{run_id}-{number:05d}",
            protocol if protocol != "mix" else (OCPP16, OCPP201)[number % 2],
        )
        for number in range(stations)
    ]


def backend_label(args: argparse.Namespace) -> str:
    """A short name for the results file: database[+redis][-protocol][-no-db-write]."""
    if args.label:
        return str(args.label)
    if args.start_server:
        scheme = urlsplit(args.database_url).scheme
        label = "postgresql" if scheme.startswith("postgres") else scheme
        label += "+redis" if args.redis_url else ""
    else:
        label = "external"
    if args.protocol != OCPP16:
        label += f"-{args.protocol}"
    if args.no_db_write:
        label += "-no-db-write"
    return label


def report(
    args: argparse.Namespace,
    url: str,
    tallies: list[Tally],
    elapsed_s: float,
) -> dict[str, Any]:
    """The JSON result of a run."""
    total = merge(tallies)
    window_s = total.window_s or args.duration
    busiest = max((tally.cpu_s / window_s for tally in tallies), default=0.0)
    client_bound = busiest >= CLIENT_BOUND_FRACTION
    cores = os.cpu_count() or 1
    host_busy = total.host_cpu_busy_fraction or 0.0
    result: dict[str, Any] = {
        "backend": backend_label(args),
        "url": url,
        "protocol": args.protocol,
        "db_write": not args.no_db_write,
        "offered_rate_per_s": args.rate or None,
        "stations": args.stations,
        "stations_connected": total.connected,
        "boot_statuses": dict(total.boot_statuses),
        "connect_failures": dict(total.connect_failures),
        "connect_boot_s": round(total.connect_boot_s, 3),
        "warmup_s": args.warmup,
        "duration_s": window_s,
        "messages": len(total.latencies_ms),
        "messages_per_s": round(len(total.latencies_ms) / window_s, 1),
        **latency_summary(total.latencies_ms),
        "by_action": {
            action: {"messages": len(samples), **latency_summary(samples)}
            for action, samples in sorted(total.by_action.items())
        },
        "call_errors": sum(total.call_errors.values()),
        "call_errors_whole_run": total.call_errors_total,
        "call_error_kinds": dict(total.call_errors.most_common(10)),
        "reply_timeouts": total.timeouts,
        "disconnects": dict(total.disconnects),
        "server_calls": dict(total.server_calls),
        "client_processes": len(tallies),
        "client_cpu_s": round(total.cpu_s, 2),
        "client_cpu_busiest_process_of_one_core": round(busiest, 3),
        "client_bound": client_bound,
        "host_cores": cores,
        "host_cpu_busy_fraction": round(host_busy, 3),
        # Database, Redis and anything else running on the host meanwhile, by command name.
        "other_processes_cpu_s": total.other_cpu_by_name or {},
        "elapsed_s": round(elapsed_s, 1),
    }
    if total.server_cpu_s is not None:
        result["server_cpu_s"] = round(total.server_cpu_s, 2)
        result["server_cpu_of_one_core"] = round(total.server_cpu_s / window_s, 3)
        if total.server_cpu_s / window_s >= CLIENT_BOUND_FRACTION:
            result["note_server"] = (
                "server-bound: the server process used ~a full core (one event loop); "
                "more throughput needs more workers/nodes or less work per message"
            )
    if client_bound:
        result["note"] = (
            f"client-bound: a client process used {busiest:.0%} of a core; the numbers are a "
            "lower bound for the server. Try --client-processes 2 (or more cores)."
        )
    elif host_busy > 0.9:
        result["note"] = (
            f"host CPU {host_busy:.0%} busy over {cores} cores: client, "
            "server and database compete for it."
        )
    if args.no_db_write:
        supported = getattr(args, "server_info", {}).get("dry_run_setting")
        result["db_write_note"] = (
            "CPMS_OCPP_DRY_RUN=1 was given to the server"
            if args.start_server
            else "start the server with CPMS_OCPP_DRY_RUN=1"
        ) + (
            "; this server has no such setting yet, so it still writes"
            if supported is False
            else ""
        )
    return result


def server_hint(args: argparse.Namespace) -> str:
    """What the external server needs for these stations to be accepted."""
    dry_run = " CPMS_OCPP_DRY_RUN=1" if args.no_db_write else ""
    return (
        f"hint: the server must auto-register stations: an organization '{ORGANIZATION_SLUG}' "
        "with unknown_station_policy='auto_register' and\n"
        f"  CPMS_REGISTRATION_ORGANIZATION={ORGANIZATION_SLUG} CPMS_LOG_LEVEL=warning"
        f"{dry_run} CPMS_DATABASE_URL=… [CPMS_REDIS_URL=…] cpms serve\n"
        "  (or use --start-server --database-url …)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options, checked against the bounds."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", default="ws://127.0.0.1:8000", help="server (not with --start-server)"
    )
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--protocol", choices=PROTOCOLS, default=OCPP16)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--connect-concurrency", type=int, default=50, help="connects at once")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="seconds per reply")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered messages/s over all stations (open loop); 0: as fast as answered",
    )
    parser.add_argument("--start-server", action="store_true", help="run `cpms serve` here")
    parser.add_argument("--database-url", help="with --start-server: CPMS_DATABASE_URL")
    parser.add_argument("--redis-url", help="with --start-server: CPMS_REDIS_URL (else memory)")
    parser.add_argument(
        "--no-db-write", action="store_true", help="ask the server not to write (CPMS_OCPP_DRY_RUN)"
    )
    parser.add_argument(
        "--write-results", action="store_true", help="also write bench/results/ocpp_ingest-*.json"
    )
    parser.add_argument("--label", help="name in the results file instead of the backend")
    args = parser.parse_args(argv)
    if not 1 <= args.stations <= MAX_STATIONS:
        parser.error(f"--stations must be 1..{MAX_STATIONS}")
    if not 0 < args.duration <= MAX_DURATION_S or not 0 <= args.warmup <= MAX_DURATION_S:
        parser.error(f"--duration and --warmup must be at most {MAX_DURATION_S}s")
    if not 1 <= args.client_processes <= min(MAX_CLIENT_PROCESSES, args.stations):
        parser.error(f"--client-processes must be 1..{MAX_CLIENT_PROCESSES} and <= --stations")
    if args.start_server and not args.database_url:
        parser.error("--start-server needs --database-url")
    if args.redis_url and urlsplit(args.redis_url).hostname not in LOCAL_HOSTS:
        parser.error("--redis-url must point at 127.0.0.1 or localhost")
    database_host = urlsplit(args.database_url or "").hostname
    if database_host and database_host not in LOCAL_HOSTS:
        parser.error("--database-url must point at 127.0.0.1 or localhost (or be sqlite)")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run as the options describe it (starting the server if asked): its JSON result."""
    run_id = secrets.token_hex(4)
    server: Server | None = None
    if args.start_server:
        server = start_server(args, run_id)
        url = server.url
    else:
        url = check_local(args.url)
        print(server_hint(args), file=sys.stderr)
    options = {
        "warmup": args.warmup,
        "duration": args.duration,
        "reply_timeout": args.reply_timeout,
        "connect_concurrency": float(args.connect_concurrency),
        # Each station's period for the offered rate (0: closed loop, as fast as possible).
        "interval": args.stations / args.rate if args.rate else 0.0,
    }
    identities = plan_identities(run_id, args.stations, args.protocol)
    exit_status: int | None = None
    try:
        server_pid = server.process.pid if server else None
        # Other work on the host (tests, builds) makes the numbers noisy: say so.
        busy_before = others_busy_fraction(server_pid or 0, 1.0)
        started = time.monotonic()
        tallies = run_clients(url, identities, args.client_processes, options, server_pid)
    finally:
        if server is not None:
            exit_status = stop_server(server)
    result = report(args, url, tallies, time.monotonic() - started)
    result["run_id"] = run_id
    result["host_cpu_busy_by_others_before_run"] = round(busy_before, 3)
    if busy_before > BUSY_HOST_FRACTION:
        result["note_busy_host"] = (
            f"other processes kept the host {busy_before:.0%} busy just before the run: "
            "they compete for the CPU, the numbers are noisy"
        )
    if server is not None:
        result["server_exit_status"] = exit_status
        result.update(log_summary(server))
    return result


# --- offered-load levels, for `python -m bench ingest` -----------------------------------------


DEFAULT_RATES = (1000.0, 2000.0, 3000.0, 4000.0, 5000.0)
DURABLE_TARGET_PER_S = 3000.0
NO_WRITE_SHARE_TARGET = 0.9
LATENCY_AT_RATE = 3000.0
LEVEL_NOTES = ("note", "note_server", "note_busy_host")


def run_level(
    database_url: str,
    redis_url: str,
    rate: float,
    duration: float,
    stations: int,
    warmup: float,
    no_db_write: bool = False,
) -> dict[str, Any]:
    """One run against a freshly started server; rate 0 is the closed loop."""
    argv = [
        "--start-server",
        "--database-url",
        database_url,
        "--redis-url",
        redis_url,
        "--stations",
        str(stations),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--rate",
        str(rate),
    ]
    if no_db_write:
        argv.append("--no-db-write")
    label = f"{rate:,.0f} msg/s offered" if rate else "closed loop"
    print(f"ingest: {label}{', no db write' if no_db_write else ''} ...", file=sys.stderr)
    level = level_row(run(parse_args(argv)), urlsplit(database_url).path.lstrip("/"))
    print(f"ingest: {level['acknowledged_per_s']:,.0f} msg/s acknowledged", file=sys.stderr)
    return level


def level_row(result: dict[str, Any], database: str) -> dict[str, Any]:
    """What the levels table keeps of one run, with what explains an odd figure."""
    level: dict[str, Any] = {
        "offered_per_s": result["offered_rate_per_s"],
        "acknowledged_per_s": result["messages_per_s"],
        "latency_ms_p50": result["latency_ms_p50"],
        "latency_ms_p95": result["latency_ms_p95"],
        "latency_ms_p99": result["latency_ms_p99"],
        "call_errors": result["call_errors"],
        "reply_timeouts": result["reply_timeouts"],
        "db_write": result["db_write"],
        "stations_connected": result["stations_connected"],
        "disconnects": result["disconnects"],
        "server_cpu_of_one_core": result.get("server_cpu_of_one_core"),
        "host_cpu_busy_fraction": result["host_cpu_busy_fraction"],
        "host_cpu_busy_by_others_before_run": result["host_cpu_busy_by_others_before_run"],
        "host_cpu_busy_by_others_during_run": others_during_run(result, database),
        "client_bound": result["client_bound"],
    }
    level.update({key: result[key] for key in LEVEL_NOTES if key in result})
    return level


def others_during_run(result: dict[str, Any], database: str) -> float:
    """Share of the host's CPU that processes neither ours nor serving us took in the window."""
    serving = {"postgres", f"postgres[{database}]", "redis-server"}
    others = sum(
        cpu for name, cpu in result["other_processes_cpu_s"].items() if name not in serving
    )
    return round(others / (result["duration_s"] * result["host_cores"]), 3)


def noisy(level: dict[str, Any]) -> bool:
    """Whether other work competed for the CPU during the run.

    Not the check before it: that also counts PostgreSQL catching up on the previous level."""
    return bool(level["host_cpu_busy_by_others_during_run"] > BUSY_HOST_FRACTION)


def levels(
    database_url: str,
    redis_url: str,
    rates: tuple[float, ...] = DEFAULT_RATES,
    duration: float = 20.0,
    stations: int = 200,
    warmup: float = 3.0,
) -> dict[str, Any]:
    """Each offered rate in increasing order, the closed loop, then the closed loop without
    database writes; the result with its summary rows."""
    started = time.monotonic()
    measured = [
        run_level(database_url, redis_url, rate, duration, stations, warmup)
        for rate in [*sorted(rates), 0.0]
    ]
    no_write = run_level(database_url, redis_url, 0.0, duration, stations, warmup, True)
    closed = measured[-1]["acknowledged_per_s"]
    ratio = closed / no_write["acknowledged_per_s"] if no_write["acknowledged_per_s"] else None
    result: dict[str, Any] = {
        "title": "OCPP ingest",
        "benchmark": "ocpp_ingest",
        "setup": {
            "stations": stations,
            "duration_s": duration,
            "warmup_s": warmup,
            "protocol": OCPP16,
            "database": "postgresql",
            "bus": "redis",
            "messages": "Heartbeat, StatusNotification, MeterValues in turn, one in flight each",
        },
        "levels": measured,
        "closed_loop_no_db_write": no_write,
        "write_to_no_write_ratio": round(ratio, 3) if ratio is not None else None,
        "elapsed_s": round(time.monotonic() - started, 1),
        "summary": ingest_summary(measured, no_write, ratio),
    }
    if any(noisy(level) for level in [*measured, no_write]):
        result["note"] = (
            "Other work kept the host busy during some of these runs "
            "(host_cpu_busy_by_others_during_run in bench/results/ingest.json): "
            "the figures are noisy."
        )
    return result


def ingest_summary(
    measured: list[dict[str, Any]], no_write: dict[str, Any], ratio: float | None
) -> list[dict[str, Any]]:
    """The rows of the docs table: durable throughput, its share of no-write, p99 at 3,000."""
    closed = measured[-1]["acknowledged_per_s"]
    at_rate = [level for level in measured if level["offered_per_s"] == LATENCY_AT_RATE]
    return [
        summary.row(
            "acknowledged messages/s, durable writes (closed loop)",
            closed,
            "msg/s",
            f"≥ {DURABLE_TARGET_PER_S:,.0f} msg/s",
            closed >= DURABLE_TARGET_PER_S,
        ),
        summary.row(
            "acknowledged messages/s, no database writes (closed loop)",
            no_write["acknowledged_per_s"],
            "msg/s",
        ),
        summary.row(
            "share of the no-write figure",
            round(ratio * 100, 1) if ratio is not None else None,
            "%",
            f"≥ {NO_WRITE_SHARE_TARGET * 100:.0f} %",
            ratio >= NO_WRITE_SHARE_TARGET if ratio is not None else None,
        ),
        summary.row(
            f"reply p99 at {LATENCY_AT_RATE:,.0f} msg/s offered",
            at_rate[0]["latency_ms_p99"] if at_rate else None,
            "ms",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    if not result["stations_connected"]:
        print(f"no station connected: {result['connect_failures']}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    if args.write_results:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"ocpp_ingest-{result['backend']}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
