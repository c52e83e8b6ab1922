"""Passwords: scrypt for people's, a fast keyed hash for stations'.

A person's password may be weak, so it is stretched with scrypt (standard library; about 16 MB
and 50 ms a hash), off the event loop in a small pool of its own: a flood of logins waits for
the pool instead of stalling every station's reply. A station's password is machine-made, 16 to
40 random characters (the OCPP security whitepaper), which no guessing reaches: an HMAC-SHA256
with a per-station salt checks it in microseconds, so a reconnect storm costs nothing. A
station whose password is still stored with scrypt (as earlier versions did) is moved to the
fast hash when it next connects with it."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

# N=2**14, r=8, p=1: about 16 MB and ~50 ms per hash.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
STATION_SCHEME = "hmac-sha256"
# scrypt releases the GIL: two threads verify while the event loop goes on; more would only
# queue for the same two cores.
_SCRYPT_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrypt")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A self-describing hash: `scrypt$N$r$p$salt$hash` (blocking: see `hash_password_async`)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (constant time; blocking for scrypt)."""
    if _is_station_hash(stored):
        return _verify_station_hash(password, stored)
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_SCRYPT_POOL, hash_password, password)


async def verify_password_async(password: str, stored: str | None) -> bool:
    """`verify_password` off the event loop. Without a stored hash (no such user) a dummy is
    checked, so the answer takes as long whether the account exists or not."""
    return (
        await asyncio.get_running_loop().run_in_executor(
            _SCRYPT_POOL, verify_password, password, stored or _dummy_hash()
        )
        and stored is not None
    )


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def hash_station_password(password: str) -> str:
    """`hmac-sha256$salt$digest`: fast, for machine-made passwords only."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hmac.new(salt, password.encode(), hashlib.sha256).digest()
    return f"{STATION_SCHEME}${_b64(salt)}${_b64(digest)}"


def _is_station_hash(stored: str) -> bool:
    return stored.startswith(STATION_SCHEME + "$")


def _verify_station_hash(password: str, stored: str) -> bool:
    try:
        _scheme, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hmac.new(base64.b64decode(salt), password.encode(), hashlib.sha256).digest()
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


async def verify_station_password(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether a station's password matches, and the fast hash to store instead when it was
    still kept with scrypt (None: nothing to change)."""
    if _is_station_hash(stored):
        return _verify_station_hash(password, stored), None
    if not await verify_password_async(password, stored):
        return False, None
    return True, hash_station_password(password)
