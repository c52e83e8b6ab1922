"""The station directory on Redis: entries per node, removed only by their owner, expiring."""

import uuid

import pytest
import redis.asyncio as aioredis

from ocpp_server.directory import ENTRY_TTL_S, RENEW_CHUNK, StationDirectory


@pytest.fixture
def redis_url(settings):
    if settings.redis_url is None:
        pytest.skip("needs CPMS_REDIS_URL (runs in the PostgreSQL + Redis pass)")
    return settings.redis_url


async def test_a_node_finds_the_station_another_node_claimed(redis_url):
    identity = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    here = StationDirectory(redis_url, "node-a", lambda: [])
    there = StationDirectory(redis_url, "node-b", lambda: [identity])
    try:
        assert await here.locate(identity) is None
        await there.claim(identity)
        assert await here.locate(identity) == "node-b"
        await there.release(identity)
        assert await here.locate(identity) is None
    finally:
        await here.stop()
        await there.stop()


async def test_a_node_does_not_remove_the_entry_of_the_node_that_took_the_station_over(redis_url):
    identity = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    old = StationDirectory(redis_url, "node-old", lambda: [])
    new = StationDirectory(redis_url, "node-new", lambda: [])
    try:
        await old.claim(identity)
        await new.claim(identity)  # the station reconnected to another node
        await old.release(identity)  # the old connection closes afterwards
        assert await old.locate(identity) == "node-new"
    finally:
        await new.release(identity)
        await old.stop()
        await new.stop()


async def test_entries_expire_unless_renewed(redis_url):
    identity = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    directory = StationDirectory(redis_url, "node-a", lambda: [identity])
    client = aioredis.Redis.from_url(redis_url)
    try:
        await directory.claim(identity)
        await client.expire(directory.key(identity), 1)
        await directory.renew()
        assert 1 < await client.ttl(directory.key(identity)) <= ENTRY_TTL_S
    finally:
        await directory.stop()  # stopping releases the node's entries
        assert await client.exists(directory.key(identity)) == 0
        await client.aclose()


async def test_without_redis_nothing_is_elsewhere():
    directory = StationDirectory(None, "solo", lambda: ["CP-1"])
    await directory.start()
    await directory.claim("CP-1")
    assert await directory.locate("CP-1") is None
    await directory.stop()


async def test_a_big_node_renews_every_entry(redis_url):
    prefix = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    identities = [f"{prefix}-{number}" for number in range(RENEW_CHUNK * 2 + 1)]
    directory = StationDirectory(redis_url, "node-big", lambda: identities)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await directory.renew()
        ttls = [await client.ttl(directory.key(identity)) for identity in identities]
        assert all(1 < ttl <= ENTRY_TTL_S for ttl in ttls)
    finally:
        await directory.stop()
        await client.aclose()


async def test_changes_made_at_once_are_written_in_the_order_they_were_made(redis_url):
    """A storm: thousands of stations come and go on one node at the same moment."""
    import asyncio

    identities = [f"CP-DIR-{uuid.uuid4().hex[:8]}" for _ in range(3 * RENEW_CHUNK)]
    directory = StationDirectory(redis_url, "node-storm", lambda: [])
    try:
        changes = []
        for number, identity in enumerate(identities):
            changes.append(directory.claim(identity))
            if number % 2:  # every other station leaves again right after connecting
                changes.append(directory.release(identity))
        await asyncio.gather(*changes)
        located = await asyncio.gather(*(directory.locate(identity) for identity in identities))
        assert located == [
            None if number % 2 else "node-storm" for number in range(len(identities))
        ]
    finally:
        for identity in identities:
            await directory.release(identity)
        await directory.stop()


async def test_a_node_whose_beat_stopped_or_went_stale_holds_no_station(redis_url):
    """A stopped or dead node's entries outlive it (up to their expiry): a command must not
    be sent to it and wait for an answer that cannot come."""
    from ocpp_server.directory import NODE_SILENT_S

    identity = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    here = StationDirectory(redis_url, "node-here", lambda: [])
    there = StationDirectory(redis_url, f"node-{uuid.uuid4().hex[:8]}", lambda: [identity])
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    beat_key = there.node_key(there._node_id)
    try:
        # A node that never beat (an older version in a rolling upgrade) is trusted.
        await client.set(there.key(identity), "node-of-an-older-version")
        assert await here.locate(identity) == "node-of-an-older-version"
        await there.claim(identity)
        assert await here.locate(identity) == there._node_id
        await there.tend()
        assert await here.locate(identity) == there._node_id
        seconds, _micro = await client.time()
        await client.set(beat_key, seconds - NODE_SILENT_S - 1)  # it died a while ago
        assert await here.locate(identity) is None
        await there.tend()  # alive again
        assert await here.locate(identity) == there._node_id
        await there.stop()  # a stop says so, even if an entry were left behind
        await client.set(there.key(identity), there._node_id)
        assert await here.locate(identity) is None
    finally:
        await client.delete(beat_key, there.key(identity))
        await client.aclose()
        await here.stop()


async def test_entries_lost_with_redis_are_written_again_at_the_next_beat(own_redis):
    """Redis restarted empty, or away while stations connected: the node's entries are back
    one beat later, not at the next renewal twenty seconds on."""
    directory = StationDirectory(own_redis.url, "node-a", lambda: ["CP-KEPT", "CP-NEW"])
    try:
        await directory.claim("CP-KEPT")
        await directory.tend()
        assert await directory.locate("CP-KEPT") == "node-a"

        await own_redis.stop()
        await own_redis.start()  # empty: no persistence
        assert await directory.locate("CP-KEPT") is None
        await directory.tend()
        assert await directory.locate("CP-KEPT") == "node-a"

        await own_redis.stop()
        await directory.claim("CP-NEW")  # fails while Redis is away (logged)
        await directory.tend()  # fails too
        await own_redis.start()
        await directory.tend()
        assert await directory.locate("CP-NEW") == "node-a"
        assert await directory.locate("CP-KEPT") == "node-a"
    finally:
        await directory.stop()


async def test_a_restarted_node_holds_what_it_claims_before_its_first_beat(redis_url):
    """A node restarting under the same id finds its earlier run's beat saying "stopped":
    its first claims must not be read as a dead node's until its first beat."""
    node_id = f"node-{uuid.uuid4().hex[:8]}"
    identity = f"CP-DIR-{uuid.uuid4().hex[:8]}"
    earlier = StationDirectory(redis_url, node_id, lambda: [])
    await earlier.tend()
    await earlier.stop()
    here = StationDirectory(redis_url, "node-here", lambda: [])
    restarted = StationDirectory(redis_url, node_id, lambda: [identity])
    try:
        await restarted.claim(identity)
        assert await here.locate(identity) == node_id
    finally:
        await restarted.stop()
        await here.stop()
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(restarted.node_key(node_id))
        await client.aclose()
