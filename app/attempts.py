"""Failed credential checks, counted per key (an account, a station identity, a source address),
and the lockout of a key that failed too often.

A key that fails `max_failures` times within the failure window is locked for the lockout
period: its attempts are refused before any credential is checked, so guessing costs the
guesser time and costs us nothing. With Redis the counts are shared by every node (spreading
guesses over nodes gains nothing); without, the one process keeps them. If Redis cannot be
reached, attempts go through unlocked and the credential check alone decides: a lockout is a
brake, and refusing every login while Redis is away would be worse."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app import metrics
from app.config import Settings, redis_namespace
from app.errors import CPMSError

logger = logging.getLogger(__name__)

KEY_PREFIX = "cpms:attempts:"
# Without Redis: keys followed at most, the oldest forgotten first (random identities or
# e-mails must not grow the process without bound).
MAX_TRACKED_KEYS = 100_000

# Count one failure; lock the key once it reached its limit, and start counting afresh.
_FAIL = """
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RateLimited(CPMSError):
    """Too many failed attempts lately: try again after `retry_after_s`."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    max_failures: int
    address_max_failures: int
    window_s: float
    lockout_s: float

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_failures=settings.auth_max_failures,
            address_max_failures=settings.auth_address_max_failures,
            window_s=settings.auth_failure_window_s,
            lockout_s=settings.auth_lockout_s,
        )


@dataclass(frozen=True)
class Key:
    """What failed: `name` is what it is counted under, `limit` its failures before a lock."""

    name: str
    limit: int


class FailedAttempts:
    def __init__(self, limits: Limits, redis_url: str | None, prefix: str | None = None) -> None:
        self.limits = limits
        self._key_prefix = redis_namespace(redis_url, prefix) + KEY_PREFIX
        self._redis = aioredis.from_url(redis_url, decode_responses=True) if redis_url else None
        # Without Redis: name -> (failures, counted until), name -> locked until.
        self._failures: dict[str, tuple[int, float]] = {}
        self._locks: dict[str, float] = {}

    def account(self, organization: str, email: str) -> Key:
        # Hashed: Redis need not hold people's e-mail addresses.
        digest = hashlib.sha256(f"{organization}\0{email}".encode()).hexdigest()[:32]
        return Key(f"account:{digest}", self.limits.max_failures)

    def station(self, identity: str) -> Key:
        return Key(f"station:{identity}", self.limits.max_failures)

    def address(self, surface: str, address: str | None) -> Key | None:
        """Logins and stations are counted apart: a bad station does not lock people out."""
        if not address:
            return None
        return Key(f"{surface}-address:{address}", self.limits.address_max_failures)

    async def check(self, *keys: Key | None) -> frozenset[str]:
        """Raise RateLimited while any of `keys` is locked; otherwise the names of those with
        failures counted (only they need `succeeded`: one round trip, not two, for the usual
        attempt that never failed)."""
        names = [key.name for key in keys if key is not None]
        remaining_s, failing = await self._standing(names)
        if remaining_s > 0:
            metrics.AUTH_REFUSED_WHILE_LOCKED.inc()
            raise RateLimited(max(1, round(remaining_s + 0.5)))
        return failing

    async def failed(self, *keys: Key | None) -> None:
        """Count one failure against each key; lock those that reached their limit."""
        for key in keys:
            if key is not None and await self._count(key):
                metrics.AUTH_LOCKOUTS.labels(kind=key.name.partition(":")[0]).inc()
                logger.warning(
                    "%s locked out for %s s after %s failed attempts",
                    key.name,
                    self.limits.lockout_s,
                    key.limit,
                )

    async def succeeded(self, key: Key) -> None:
        """A good credential clears its key's failures (never an address's: one good account
        must not wipe what the address failed with others)."""
        if self._redis is None:
            self._failures.pop(key.name, None)
            return
        try:
            await self._redis.delete(self._key_prefix + "failures:" + key.name)
        except RedisError as error:
            logger.warning("cannot clear failed attempts: %s", error)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def _standing(self, names: list[str]) -> tuple[float, frozenset[str]]:
        """Seconds until the longest lock among `names` ends (0 or less: none), and which of
        them have failures counted."""
        if not names:
            return 0.0, frozenset()
        if self._redis is None:
            now = time.monotonic()
            remaining_s = max(self._locks.get(name, now) - now for name in names)
            failing = frozenset(n for n in names if self._failures.get(n, (0, now))[1] > now)
            return remaining_s, failing
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.pttl(self._key_prefix + "lock:" + name)
                    pipe.exists(self._key_prefix + "failures:" + name)
                answers = await pipe.execute()
        except RedisError as error:
            logger.warning("cannot read lockouts, attempts go through: %s", error)
            return 0.0, frozenset()
        remaining_ms, exists = answers[0::2], answers[1::2]
        counted = frozenset(name for name, found in zip(names, exists, strict=True) if found)
        return max(remaining_ms) / 1000, counted  # PTTL -2: no lock

    async def _count(self, key: Key) -> bool:
        """Count a failure; whether it locked the key."""
        if self._redis is None:
            return self._count_here(key)
        try:
            locked = await self._redis.eval(
                _FAIL,
                2,
                self._key_prefix + "failures:" + key.name,
                self._key_prefix + "lock:" + key.name,
                int(self.limits.window_s * 1000),
                key.limit,
                int(self.limits.lockout_s * 1000),
            )
        except RedisError as error:
            logger.warning("cannot count a failed attempt: %s", error)
            return False
        return bool(locked)

    def _count_here(self, key: Key) -> bool:
        now = time.monotonic()
        failures, until = self._failures.pop(key.name, (0, now + self.limits.window_s))
        if until <= now:
            failures, until = 0, now + self.limits.window_s
        failures += 1
        if failures >= key.limit:
            self._locks.pop(key.name, None)
            self._locks[key.name] = now + self.limits.lockout_s
            _forget_oldest(self._locks)
            return True
        self._failures[key.name] = (failures, until)  # re-inserted: the newest last
        _forget_oldest(self._failures)
        return False


def _forget_oldest(entries: MutableMapping[str, Any]) -> None:
    while len(entries) > MAX_TRACKED_KEYS:
        del entries[next(iter(entries))]
