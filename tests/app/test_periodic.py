"""A periodic job stops when asked, even when a cancellation is lost inside a round."""

import asyncio

from app.periodic import Periodic


async def test_a_job_that_loses_its_cancellation_still_stops() -> None:
    rounds = 0
    in_round = asyncio.Event()

    async def swallowing() -> None:
        # As a library that catches CancelledError would: the round goes on to its end.
        nonlocal rounds
        rounds += 1
        in_round.set()
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)

    job = Periodic("swallowing", 0.01, swallowing)
    await job.start()
    await asyncio.wait_for(in_round.wait(), 5)
    await asyncio.wait_for(job.stop(), 5)
    ran = rounds
    await asyncio.sleep(0.1)
    assert rounds == ran  # no round after it stopped


async def test_a_job_between_rounds_stops_at_once_and_can_start_again() -> None:
    rounds = 0

    async def counting() -> None:
        nonlocal rounds
        rounds += 1

    job = Periodic("counting", 60, counting)
    await job.start()
    await asyncio.wait_for(job.stop(), 1)
    assert rounds == 0
    fast = Periodic("counting", 0.01, counting)
    await fast.start()
    await fast.stop()
    await fast.start()
    await asyncio.sleep(0.1)
    await fast.stop()
    assert rounds > 0
