"""Leases: one node runs a cluster-wide job; when it dies, another takes over."""

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from app.leases import Leases
from app.periodic import Periodic


@pytest.fixture
def redis_url(settings):
    if settings.redis_url is None:
        pytest.skip("needs CPMS_REDIS_URL (runs in the PostgreSQL + Redis pass)")
    return settings.redis_url


async def test_one_node_holds_a_lease_until_it_stops_renewing(redis_url):
    name = f"job-{uuid.uuid4().hex[:8]}"
    first, second = Leases(redis_url, "node-a"), Leases(redis_url, "node-b")
    try:
        assert await first.hold(name, 0.3)
        assert not await second.hold(name, 0.3)
        assert await first.hold(name, 0.3)  # renewed by its holder
        await asyncio.sleep(0.4)  # node-a died: it renews no more
        assert await second.hold(name, 0.3)
        assert not await first.hold(name, 0.3)
    finally:
        await first.close()
        await second.close()


async def test_two_nodes_never_run_the_same_round(redis_url):
    runs: list[str] = []
    nodes = []
    name = f"cluster job {uuid.uuid4().hex[:8]}"
    for node in ("node-a", "node-b"):
        leases = Leases(redis_url, node)

        async def job(node: str = node) -> None:
            runs.append(node)

        nodes.append((Periodic(name, 0.05, job, leases), leases))
    for periodic, _ in nodes:
        await periodic.start()
    await asyncio.sleep(0.6)
    for periodic, leases in nodes:
        await periodic.stop()
        await leases.close()
    assert len(runs) >= 5
    assert len(set(runs)) == 1  # the lease holder kept it; the other never ran


async def test_a_stopping_node_hands_its_job_over_at_once_and_leaves_no_key(redis_url):
    name = f"job-{uuid.uuid4().hex[:8]}"
    first, second = Leases(redis_url, "node-a"), Leases(redis_url, "node-b")

    async def job() -> None:
        pass

    periodic = Periodic(name, 30, job, first)
    try:
        await periodic.start()
        assert await first.hold(name, 60)  # as its rounds do
        await periodic.stop()
        assert await second.hold(name, 60)  # not after the 60 s the lease had left
        await second.release(name)
        await first.release(name)  # no longer its: changes nothing
        assert await second.hold(name, 1)
        await second.release(name)
        client = aioredis.Redis.from_url(redis_url)
        try:
            assert await client.keys(f"*{name}*") == []
        finally:
            await client.aclose()
    finally:
        await first.close()
        await second.close()


async def test_without_redis_the_only_process_holds_every_lease():
    leases = Leases(None, "node-1")
    assert await leases.hold("anything", 1)
