"""Roaming partners for a benchmark that has its own work to do in its event loop: their
locations receivers (`bench.ocpi_push.Receivers`) in a process of their own, asked over a
pipe what arrived."""

from __future__ import annotations

import asyncio
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from app.collector import settle_garbage_collector
from bench.ocpi_push import Receivers
from bench.ocpp_ingest import free_port

# (partner number, evse uid) -> [(OCPI status, perf_counter when it arrived)]
Arrivals = dict[tuple[int, str], list[tuple[str, float]]]


def receiver_process(ports: list[int], control: Connection) -> None:
    settle_garbage_collector()
    asyncio.run(_receive_under_control(ports, control))


async def _receive_under_control(ports: list[int], control: Connection) -> None:
    """Serve the receivers; answer on the control pipe: ("watch", uids) (arrivals are kept of
    these EVSEs only), "arrivals" (those kept so far, then forgotten), "activity" (updates
    received so far, and when the last came), "stop"."""
    receivers = Receivers(len(ports), ports)
    receivers.watched = set()
    await receivers.start()
    requests: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    loop.add_reader(control.fileno(), lambda: requests.put_nowait(control.recv()))
    try:
        while True:
            request = await requests.get()
            if isinstance(request, tuple) and request[0] == "watch":
                receivers.watched = set(request[1])
                control.send("watching")
            elif request == "arrivals":
                control.send(dict(receivers.arrivals))
                receivers.arrivals.clear()
            elif request == "activity":
                control.send((receivers.received, receivers.last_arrival))
            elif request == "stop":
                control.send("stopped")
                return
    finally:
        await receivers.stop()


@dataclass
class PartnerReceivers:
    """The receivers' process, from the benchmark's side. perf_counter is the system's
    monotonic clock, so arrival times compare with the benchmark's own."""

    ports: list[int]
    process: multiprocessing.process.BaseProcess
    pipe: Connection

    @classmethod
    def start(cls, count: int) -> PartnerReceivers:
        ports = [free_port() for _ in range(count)]
        spawning = multiprocessing.get_context("spawn")
        ours, theirs = spawning.Pipe()
        process = spawning.Process(target=receiver_process, args=(ports, theirs), daemon=True)
        process.start()
        return cls(ports, process, ours)

    def _ask(self, request: Any) -> Any:
        self.pipe.send(request)
        return self.pipe.recv()

    def watch(self, evse_uids: list[str]) -> None:
        self._ask(("watch", evse_uids))

    def arrivals(self) -> Arrivals:
        found: Arrivals = self._ask("arrivals")
        return found

    def activity(self) -> tuple[int, float]:
        """Updates received so far (every partner), and when the last came."""
        received, last = self._ask("activity")
        return int(received), float(last)

    def stop(self) -> None:
        if self.process.is_alive():
            self._ask("stop")
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
