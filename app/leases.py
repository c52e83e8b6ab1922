"""Leases: one node at a time does a cluster-wide job (reconciliation, ghost checks, ...).

With Redis, a lease is a key holding the node's id with an expiry. The holder renews it at
each round; a node that dies stops renewing, and another takes the job over once the lease
expires. Without Redis there is one process, which always holds every lease."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import redis_namespace

logger = logging.getLogger(__name__)

KEY_PREFIX = "cpms:lease:"

# Take the lease if it is free, or extend it if it is ours already: in one step.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Give the lease up only if it is ours: in one step, so a lease taken over meanwhile stays.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Leases:
    def __init__(self, redis_url: str | None, node_id: str, prefix: str | None = None) -> None:
        self._node_id = node_id
        self._key_prefix = redis_namespace(redis_url, prefix) + KEY_PREFIX
        self._redis = aioredis.from_url(redis_url, decode_responses=True) if redis_url else None

    async def hold(self, name: str, ttl_s: float) -> bool:
        """Whether this node holds `name` for the next `ttl_s` seconds."""
        if self._redis is None:
            return True
        try:
            held = await self._redis.eval(
                _HOLD, 1, self._key_prefix + name, self._node_id, int(ttl_s * 1000)
            )
        except RedisError as error:
            logger.warning("cannot take the lease %s: %s", name, error)
            return False
        return bool(held)

    async def release(self, name: str) -> None:
        """Give `name` up if this node holds it: a stopping node hands its jobs over at once
        instead of after the lease expires, and leaves no key behind."""
        if self._redis is None:
            return
        try:
            await self._redis.eval(_RELEASE, 1, self._key_prefix + name, self._node_id)
        except RedisError as error:
            logger.warning("cannot give up the lease %s: %s", name, error)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
