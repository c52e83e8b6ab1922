"""Event bus latency and throughput: publish on one bus, receive on another.

    python -m bench.event_bus [--url memory://|redis://127.0.0.1:6379/0] [--events 20000]

Prints publish→receive latency (p50/p95/p99) for events sent one at a time, and the throughput
of a burst. With Redis, publisher and subscriber are separate connections, as two nodes are.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from app.events import EventBus, StationConnectionChanged


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(url: str, events: int) -> dict[str, object]:
    publisher = EventBus(url)
    subscriber = publisher if url.startswith("memory") else EventBus(url)
    await publisher.connect()
    if subscriber is not publisher:
        await subscriber.connect()
    event = StationConnectionChanged(
        organization_id=1, identity="BENCH", connected=True, protocol="ocpp1.6", node_id="bench"
    )
    try:
        async with subscriber.subscribe(StationConnectionChanged) as stream:
            await asyncio.sleep(0.2)  # let the subscription settle
            latencies_ms: list[float] = []
            for _ in range(min(events, 5000)):
                started = time.perf_counter()
                await publisher.publish(event)
                await anext(stream)
                latencies_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            for _ in range(events):
                await publisher.publish(event)
            for _ in range(events):
                await anext(stream)
            burst_s = time.perf_counter() - started
    finally:
        await publisher.disconnect()
        if subscriber is not publisher:
            await subscriber.disconnect()
    return {
        "bus": url,
        "round_trips": len(latencies_ms),
        "latency_ms_p50": round(statistics.median(latencies_ms), 3),
        "latency_ms_p95": round(percentile(latencies_ms, 0.95), 3),
        "latency_ms_p99": round(percentile(latencies_ms, 0.99), 3),
        "burst_events": events,
        "burst_events_per_s": round(events / burst_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="memory://")
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.events)), indent=2))


if __name__ == "__main__":
    main()
