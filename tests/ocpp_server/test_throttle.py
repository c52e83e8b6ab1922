"""The per-station frame budget: a burst, then a steady rate; frames are delayed, never lost."""

import asyncio
import json

import pytest
import websockets

from app.metrics import OCPP_FRAMES_THROTTLED
from ocpp_server.throttle import BURST_SECONDS, FrameBudgets, FrameThrottle
from tests.conftest import serving


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_through_then_frames_are_spaced_at_the_rate():
    clock = FakeClock()
    throttle = FrameThrottle("CP-1", rate=10, clock=clock)
    burst = int(10 * BURST_SECONDS)
    assert [throttle.delay() for _ in range(burst)] == [0.0] * burst
    assert throttle.delay() == pytest.approx(0.1)
    assert throttle.delay() == pytest.approx(0.2)  # the backlog grows, nothing is dropped


def test_a_quiet_station_earns_its_burst_back():
    clock = FakeClock()
    throttle = FrameThrottle("CP-1", rate=10, clock=clock)
    for _ in range(int(10 * BURST_SECONDS) + 5):
        throttle.delay()
    clock.now += BURST_SECONDS + 1  # quiet for a while: the bucket refills, up to its size
    assert [throttle.delay() for _ in range(int(10 * BURST_SECONDS))] == [0.0] * 50
    assert throttle.delay() > 0


async def test_a_flooding_station_does_not_hold_up_another(settings, database, register):
    """The flooder sends without waiting for replies; the other station is answered while the
    flooder's frames are still being worked through, and the flooder gets every reply."""
    rate, flood_size = 100, 700  # a burst of 500, then 200 frames at 100/s
    await register("CP-FLOOD")
    await register("CP-CALM")
    arrivals: list[str] = []
    throttled_before = OCPP_FRAMES_THROTTLED._value.get()
    async with (
        serving(settings.model_copy(update={"ocpp_frames_per_s": rate})) as server,
        websockets.connect(f"{server.ws}/ocpp/CP-FLOOD", subprotocols=["ocpp1.6"]) as flooder,
        websockets.connect(f"{server.ws}/ocpp/CP-CALM", subprotocols=["ocpp1.6"]) as calm,
    ):

        async def collect_flood_replies() -> None:
            for _ in range(flood_size):
                arrivals.append(json.loads(await flooder.recv())[1])

        collecting = asyncio.create_task(collect_flood_replies())
        for n in range(flood_size):
            await flooder.send(json.dumps([2, f"f{n}", "Heartbeat", {}]))
        await calm.send(json.dumps([2, "calm", "Heartbeat", {}]))
        arrivals.append(json.loads(await calm.recv())[1])
        await asyncio.wait_for(collecting, 60)
    assert [a for a in arrivals if a != "calm"] == [f"f{n}" for n in range(flood_size)]
    assert arrivals.index("calm") < arrivals.index(f"f{flood_size - 1}")
    # Beyond its burst, the flooder's frames were read at its rate, not as fast as it sent.
    burst = int(rate * BURST_SECONDS)
    assert OCPP_FRAMES_THROTTLED._value.get() - throttled_before >= flood_size - burst - rate


async def test_a_station_keeps_its_budget_across_its_connections():
    clock = FakeClock()
    budgets = FrameBudgets(rate=10, clock=clock)
    first = budgets.take("CP-1")
    for _ in range(int(10 * BURST_SECONDS)):
        first.delay()
    budgets.give_back("CP-1")
    clock.now += 0.15  # back at once: a frame and a half refilled, not a new burst
    again = budgets.take("CP-1")
    assert again is first
    assert again.delay() == 0.0
    assert again.delay() > 0
    # A second connection of the same station (before the first has ended) shares it.
    assert budgets.take("CP-1") is first
    budgets.give_back("CP-1")
    budgets.give_back("CP-1")
    assert len(budgets) == 1


async def test_a_station_away_until_its_budget_is_full_again_is_forgotten():
    budgets = FrameBudgets(rate=1_000)  # the real clock: a few frames refill in milliseconds
    throttle = budgets.take("CP-1")
    for _ in range(5):
        throttle.delay()
    budgets.give_back("CP-1")
    await asyncio.sleep(0.1)
    assert len(budgets) == 0
    assert budgets.take("CP-1") is not throttle


async def test_reconnecting_buys_no_fresh_burst(settings, database, register):
    """A station that spends its burst, hangs up and connects again is read at its rate, as
    if it had stayed: a reconnect loop used to be read at a burst per connection."""
    rate = 2  # a burst of 10 frames
    burst = int(rate * BURST_SECONDS)
    await register("CP-LOOP")
    throttled_before = OCPP_FRAMES_THROTTLED._value.get()
    async with serving(settings.model_copy(update={"ocpp_frames_per_s": rate})) as server:
        url = f"{server.ws}/ocpp/CP-LOOP"
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            # The server takes a frame's token before reading it: the burst's last is taken
            # for a frame this connection never sends.
            for n in range(burst - 1):
                await station.send(json.dumps([2, f"a{n}", "Heartbeat", {}]))
                assert json.loads(await station.recv())[1] == f"a{n}"
        assert OCPP_FRAMES_THROTTLED._value.get() == throttled_before
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as station:
            await station.send(json.dumps([2, "b0", "Heartbeat", {}]))
            assert json.loads(await station.recv())[1] == "b0"
    assert OCPP_FRAMES_THROTTLED._value.get() > throttled_before
