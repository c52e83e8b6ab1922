"""Running many simulated stations: in one process, or spread over several (each with its
own loopback source address, since one address has only ~28,000 source ports and one process
20,000 open files)."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

from app.collector import settle_garbage_collector
from simulator.report import Tally
from simulator.station import OCPP16, OCPP201, Behaviour, SimulatedStation

# Connections opened at once: a storm of thousands would only time out.
CONNECTS_AT_ONCE = 200


@dataclass(frozen=True)
class Plan:
    url: str  # the CPMS's OCPP address, e.g. ws://127.0.0.1:8000/ocpp
    stations: int
    duration_s: float
    share_201: float = 0.5  # the rest speak 1.6
    more_urls: tuple[str, ...] = ()  # other nodes of the CPMS: stations spread over all
    session_share: float = 1.0  # stations that charge of their own; the rest only stay online
    validate: bool = True  # check messages against the OCPP schemas (a third of the CPU)
    prefix: str = "SIM"
    password: str | None = None
    ramp_s: float = 0.0  # connections spread over this long
    processes: int = 1
    source_addresses: tuple[str, ...] = ()  # one per process, in turn
    behaviour: Behaviour = field(default_factory=Behaviour)
    seed: int = 1
    progress_s: float = 0.0  # a progress line on stderr this often (0: none)


def identity(plan: Plan, index: int) -> str:
    return f"{plan.prefix}-{index:06d}"


def _in_share(share: float, index: int) -> bool:
    """Whether station `index` is among an evenly interleaved share: with 0.25, every fourth."""
    return int((index + 1) * share) > int(index * share)


def protocol(plan: Plan, index: int) -> str:
    return OCPP201 if _in_share(plan.share_201, index) else OCPP16


def stations(
    plan: Plan, indexes: range, tally: Tally, source_address: str | None = None
) -> list[SimulatedStation]:
    """The stations `indexes` of the plan, not yet running, sharing one tally."""
    urls = (plan.url, *plan.more_urls)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    idle = replace(plan.behaviour, sessions=False)
    return [
        SimulatedStation(
            identity(plan, index),
            protocol(plan, index),
            urls[index % len(urls)],
            plan.behaviour if _in_share(plan.session_share, index) else idle,
            tally,
            plan.password,
            source_address,
            seed=plan.seed * 1_000_003 + index,
            connect_gate=gate,
            validate=plan.validate,
        )
        for index in indexes
    ]


def progress_line(elapsed_s: float, group: list[SimulatedStation], tally: Tally) -> str:
    """Where the run stands: who is online and charging, what was answered, what failed."""
    online = sum(station.online.is_set() for station in group)
    charging = sum(station.transaction is not None for station in group)
    errors = sum(tally.call_errors.values()) + sum(tally.timeouts.values())
    line = (
        f"{elapsed_s:.0f}s: {online}/{len(group)} online, {charging} charging, "
        f"{sum(tally.answered.values())} answered, {errors} errors, "
        f"{tally.connect_failures} failed connects"
    )
    if tally.connect_failure_reasons:
        reason, count = tally.connect_failure_reasons.most_common(1)[0]
        line += f" (most: {reason}, {count}x)"
    return line


async def _report_progress(
    plan: Plan, group: list[SimulatedStation], tally: Tally, label: str
) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(plan.progress_s)
        line = progress_line(time.monotonic() - started, group, tally)
        print(f"{label}{line}", file=sys.stderr, flush=True)


async def run_stations(
    plan: Plan, group: list[SimulatedStation], tally: Tally | None = None, label: str = ""
) -> None:
    """Run the stations until the plan's duration is over, their connections spread over its
    ramp; with a tally and plan.progress_s, a progress line on stderr every so often."""
    until = time.monotonic() + plan.duration_s
    spacing = plan.ramp_s / max(1, len(group))

    async def one(position: int, station: SimulatedStation) -> None:
        await asyncio.sleep(position * spacing)
        await station.run(until)

    reporter = (
        asyncio.create_task(_report_progress(plan, group, tally, label))
        if tally is not None and plan.progress_s > 0
        else None
    )
    try:
        await asyncio.gather(*(one(position, station) for position, station in enumerate(group)))
    finally:
        if reporter is not None:
            reporter.cancel()


async def simulate(
    plan: Plan, indexes: range, source_address: str | None = None, label: str = ""
) -> Tally:
    """Run the stations `indexes` of the plan until its duration is over."""
    tally = Tally()
    await run_stations(plan, stations(plan, indexes, tally, source_address), tally, label)
    return tally


def _in_process(
    arguments: tuple[Plan, range, str | None, str],
) -> tuple[dict[str, Any], list[float]]:
    plan, indexes, address, label = arguments
    settle_garbage_collector()
    tally = asyncio.run(simulate(plan, indexes, address, label))
    return tally.as_dict(), tally.latencies_ms


def run(plan: Plan) -> dict[str, Any]:
    """Run the whole plan; the report of all processes together."""
    started = time.monotonic()
    processes = max(1, min(plan.processes, plan.stations))
    shares = [range(start, plan.stations, processes) for start in range(processes)]
    addresses = [
        plan.source_addresses[number % len(plan.source_addresses)]
        if plan.source_addresses
        else None
        for number in range(processes)
    ]
    if processes == 1:
        settle_garbage_collector()
        tally = asyncio.run(simulate(plan, shares[0], addresses[0]))
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            labels = [f"[process {number + 1}] " for number in range(processes)]
            results = pool.map(
                _in_process,
                list(zip([plan] * processes, shares, addresses, labels, strict=True)),
            )
        tally = Tally()
        for data, latencies in results:
            tally.merge(Tally.from_dict(data, latencies))
    elapsed = time.monotonic() - started
    answered = sum(tally.answered.values())
    return {
        "urls": [plan.url, *plan.more_urls],
        "stations": plan.stations,
        "ocpp201_share": plan.share_201,
        "processes": processes,
        "duration_s": round(elapsed, 1),
        "messages_answered_per_s": round(answered / elapsed, 1) if elapsed else None,
        **tally.as_dict(),
    }
