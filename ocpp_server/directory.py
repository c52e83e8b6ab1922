"""Which node holds which station's connection, for routing commands between nodes.

With Redis, each node keeps one key per station it serves, with a short expiry that it keeps
renewing. A node that dies stops renewing, so its stations stop being routed to it within
`ENTRY_TTL_S` and a command for them fails at once as offline instead of timing out. Without
Redis there is one node, and a station not connected here is not connected anywhere.

Each node also beats: every `NODE_BEAT_S` it writes Redis's own clock into a key of its own.
A node whose beat is older than `NODE_SILENT_S` (it died, or it stopped) holds no station,
whatever its entries still say, so a command does not wait for an answer that cannot come.
A beat that finds its key gone (Redis restarted empty) or follows a failed one (Redis was
away) writes every entry of the node again at once, rather than at the next renewal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from app.config import redis_namespace

logger = logging.getLogger(__name__)

ENTRY_TTL_S = 60
RENEW_INTERVAL_S = 20.0
RENEW_CHUNK = 500
KEY_PREFIX = "cpms:station-node:"
NODE_KEY_PREFIX = "cpms:node-beat:"
NODE_BEAT_S = 2.0
# Long enough that a node's stalled event loop (a reconnect storm) is not taken for its death.
NODE_SILENT_S = 15
# A beat outlives its node long enough to be read as "gone"; a node without any beat key is one
# that never beat (an older version during a rolling upgrade): its entries are trusted.
NODE_KEY_TTL_S = 3600
STOPPED_BEAT = "0"
MAX_REDIS_CONNECTIONS = 16

# Delete the entry only if it is still ours: the station may have moved to another node since.
_RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Renew the entry unless another node has claimed the station since (its connection here is
# being closed): a renewal must not take the station back.
_RENEW_UNLESS_TAKEN = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""
# The node's beat, in Redis's clock (one clock for every node); the previous one, or nil.
_BEAT = """
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], redis.call('TIME')[1], 'EX', ARGV[1])
return previous
"""
# The station's holder, unless its beat says it is gone. The beat key's name is built here from
# the holder found: fine on one Redis (not a cluster), as the leases' scripts also assume.
_LOCATE = """
local node = redis.call('GET', KEYS[1])
if not node then return false end
local beat = redis.call('GET', ARGV[1] .. node)
if beat and tonumber(redis.call('TIME')[1]) - tonumber(beat) > tonumber(ARGV[2]) then
  return false
end
return node
"""


def entry_key(identity: str, namespace: str = "") -> str:
    return namespace + KEY_PREFIX + identity


class StationDirectory:
    """Entries for the stations connected to this node; `locate` finds any node's."""

    def __init__(
        self,
        redis_url: str | None,
        node_id: str,
        live_identities: Callable[[], Iterable[str]],
        prefix: str | None = None,
        on_taken: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        """`on_taken(identity, node_id)`: this node's claim replaced another node's entry."""
        self._node_id = node_id
        self._on_taken = on_taken
        self._namespace = redis_namespace(redis_url, prefix)
        self._live_identities = live_identities
        # A bounded pool that makes callers wait: hundreds of stations connecting at once must
        # not open hundreds of Redis connections (redis-py's default pool raises at 100).
        self._redis = (
            aioredis.Redis.from_pool(
                aioredis.BlockingConnectionPool.from_url(
                    redis_url, max_connections=MAX_REDIS_CONNECTIONS, decode_responses=True
                )
            )
            if redis_url
            else None
        )
        self._beating: asyncio.Task[None] | None = None
        self._renewed_at: float | None = None
        self._reachable = True
        self._has_beaten = False
        self._beat_lost = False
        self._changes: list[tuple[str, bool, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._redis is not None:
            self._beating = asyncio.create_task(self._keep_beating(), name="directory-beat")

    async def stop(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            await asyncio.gather(self._beating, return_exceptions=True)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._redis is not None:
            try:
                await self._release_all()
                if self._has_beaten:  # it said it was alive: now it says it stopped
                    await self._redis.set(
                        self.node_key(self._node_id), STOPPED_BEAT, ex=NODE_KEY_TTL_S
                    )
            except RedisError as error:  # the entries expire on their own
                logger.warning("cannot remove this node's stations from the directory: %s", error)
            await self._redis.aclose()

    async def claim(self, identity: str) -> None:
        """This node holds the station now (written when this returns; a failure is logged
        and mended by the next renewal)."""
        await self._change(identity, claim=True)

    async def release(self, identity: str) -> None:
        """This node no longer holds the station: its entry goes, unless another node's
        claim has replaced it meanwhile (a failure is logged; the entry expires)."""
        await self._change(identity, claim=False)

    async def _change(self, identity: str, *, claim: bool) -> None:
        """Queue the change; one writer sends whatever has queued in pipelines, in order. In a
        reconnect storm, thousands of stations connecting and leaving at once each waited for
        one of the pool's connections, long enough to fail ("No connection available")."""
        if self._redis is None:
            return
        written = asyncio.get_running_loop().create_future()
        self._changes.append((identity, claim, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_changes(), name="directory-writer")
        await written

    async def _write_changes(self) -> None:
        assert self._redis is not None
        while self._changes:
            batch, self._changes = self._changes[:RENEW_CHUNK], self._changes[RENEW_CHUNK:]
            taken: list[tuple[str, str]] = []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for identity, claim, _written in batch:
                        if claim:  # the previous holder comes back: it may be another node
                            pipe.set(self.key(identity), self._node_id, ex=ENTRY_TTL_S, get=True)
                        else:
                            self._release_in(pipe, identity)
                    beats = any(claim for _identity, claim, _written in batch)
                    if beats:
                        # A claim is a sign of life: an earlier run of a node with this id
                        # (a restart) may have left its beat saying "stopped", and the claim
                        # must not be read as a dead node's before this node's first beat.
                        self._beat_in(pipe)
                    results = await pipe.execute()
                if beats:
                    self._has_beaten = True
                    # Its key was gone (Redis restarted empty): the next tend writes it all.
                    self._beat_lost = self._beat_lost or results[-1] is None
                taken = [
                    (identity, str(previous))
                    for (identity, claim, _written), previous in zip(batch, results, strict=False)
                    if claim and previous not in (None, self._node_id)
                ]
            except RedisError as error:
                logger.warning("cannot update %d directory entries: %s", len(batch), error)
            finally:
                for _identity, _claim, written in batch:
                    if not written.done():
                        written.set_result(None)
            for identity, node_id in taken:
                if self._on_taken is not None:
                    try:
                        await self._on_taken(identity, node_id)
                    except Exception:
                        logger.warning(
                            "cannot tell %s to let %s go", node_id, identity, exc_info=True
                        )

    def key(self, identity: str) -> str:
        """The station's entry in this installation's namespace."""
        return entry_key(identity, self._namespace)

    def node_key(self, node_id: str) -> str:
        """A node's beat in this installation's namespace."""
        return self._namespace + NODE_KEY_PREFIX + node_id

    async def locate(self, identity: str) -> str | None:
        """The node serving this station, or None when no node does (or its node is gone).
        Raises RedisError when Redis cannot be reached."""
        if self._redis is None:
            return None
        node_id = await self._redis.eval(
            _LOCATE, 1, self.key(identity), self.node_key(""), NODE_SILENT_S
        )
        return str(node_id) if node_id is not None else None

    async def beat(self) -> bool:
        """Say this node is alive; True when its beat key had been lost (Redis restarted, or
        the node is new), so its entries may be lost too."""
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            self._beat_in(pipe)
            (previous,) = await pipe.execute()
        self._has_beaten = True
        return previous is None

    def _beat_in(self, pipe: Pipeline) -> None:
        pipe.eval(_BEAT, 1, self.node_key(self._node_id), NODE_KEY_TTL_S)

    async def renew(self) -> None:
        """Every entry of this node, written again with a fresh expiry (unless another node
        holds the station now)."""
        await self._for_each_entry(self._renew_in)

    async def _release_all(self) -> None:
        await self._for_each_entry(self._release_in)

    def _renew_in(self, pipe: Pipeline, identity: str) -> None:
        pipe.eval(_RENEW_UNLESS_TAKEN, 1, self.key(identity), self._node_id, ENTRY_TTL_S)

    def _release_in(self, pipe: Pipeline, identity: str) -> None:
        pipe.eval(_RELEASE_IF_OURS, 1, self.key(identity), self._node_id)

    async def _for_each_entry(self, command: Callable[[Pipeline, str], None]) -> None:
        """One command per station of this node, in pipelines of RENEW_CHUNK: one pipeline of
        all of a big node's stations would hold its event loop (and every station's reply)
        while it packs and parses them."""
        if self._redis is None:
            return
        identities = list(self._live_identities())
        for start in range(0, len(identities), RENEW_CHUNK):
            async with self._redis.pipeline(transaction=False) as pipe:
                for identity in identities[start : start + RENEW_CHUNK]:
                    command(pipe, identity)
                await pipe.execute()

    async def tend(self) -> None:
        """One beat; every entry written again when it is time to renew, when Redis lost the
        beat key (restarted empty) or when the last beat failed (claims made meanwhile were
        lost). Failures are logged once per outage."""
        assert self._redis is not None
        loop = asyncio.get_running_loop()
        try:
            lost = await self.beat() or self._beat_lost
            due = self._renewed_at is None or loop.time() - self._renewed_at >= RENEW_INTERVAL_S
            if lost or due or not self._reachable:
                await self.renew()
                self._renewed_at = loop.time()
                self._beat_lost = False
                if not self._reachable:
                    logger.info("the station directory is reachable again; entries renewed")
            self._reachable = True
        except RedisError as error:
            if self._reachable:
                logger.warning("cannot beat or renew the station directory: %s", error)
            self._reachable = False

    async def _keep_beating(self) -> None:
        while True:
            await self.tend()
            await asyncio.sleep(NODE_BEAT_S)
