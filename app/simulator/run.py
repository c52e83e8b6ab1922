"""Running many simulated stations: in one process, or spread over several (each with its
own loopback source address, since one address has only ~28,000 source ports and one process
20,000 open files)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any

from app.simulator.report import Tally
from app.simulator.station import OCPP16, OCPP201, Behaviour, SimulatedStation

# Connections opened at once: a storm of thousands would only time out.
CONNECTS_AT_ONCE = 200


@dataclass(frozen=True)
class Plan:
    url: str  # the CPMS's OCPP address, e.g. ws://127.0.0.1:8000/ocpp
    stations: int
    duration_s: float
    share_201: float = 0.5  # the rest speak 1.6
    prefix: str = "SIM"
    password: str | None = None
    ramp_s: float = 0.0  # connections spread over this long
    processes: int = 1
    source_addresses: tuple[str, ...] = ()  # one per process, in turn
    behaviour: Behaviour = field(default_factory=Behaviour)
    seed: int = 1


def identity(plan: Plan, index: int) -> str:
    return f"{plan.prefix}-{index:06d}"


def protocol(plan: Plan, index: int) -> str:
    """Versions interleaved evenly: with a share of 0.25, every fourth station is 2.0.1."""
    share = plan.share_201
    return OCPP201 if int((index + 1) * share) > int(index * share) else OCPP16


async def simulate(plan: Plan, indexes: range, source_address: str | None = None) -> Tally:
    """Run the stations `indexes` of the plan until its duration is over."""
    tally = Tally()
    started = time.monotonic()
    until = started + plan.duration_s
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    spacing = plan.ramp_s / max(1, len(indexes))

    async def one(position: int, index: int) -> None:
        await asyncio.sleep(position * spacing)
        station = SimulatedStation(
            identity(plan, index),
            protocol(plan, index),
            plan.url,
            plan.behaviour,
            tally,
            plan.password,
            source_address,
            seed=plan.seed * 1_000_003 + index,
            connect_gate=gate,
        )
        await station.run(until)

    await asyncio.gather(*(one(position, index) for position, index in enumerate(indexes)))
    return tally


def _in_process(arguments: tuple[Plan, range, str | None]) -> tuple[dict[str, Any], list[float]]:
    plan, indexes, address = arguments
    tally = asyncio.run(simulate(plan, indexes, address))
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
        tally = asyncio.run(simulate(plan, shares[0], addresses[0]))
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(
                _in_process, list(zip([plan] * processes, shares, addresses, strict=True))
            )
        tally = Tally()
        for data, latencies in results:
            tally.merge(Tally.from_dict(data, latencies))
    elapsed = time.monotonic() - started
    answered = sum(tally.answered.values())
    return {
        "url": plan.url,
        "stations": plan.stations,
        "ocpp201_share": plan.share_201,
        "processes": processes,
        "duration_s": round(elapsed, 1),
        "messages_answered_per_s": round(answered / elapsed, 1) if elapsed else None,
        **tally.as_dict(),
    }
