"""Password hashing with scrypt (standard library): for station passwords and user logins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# N=2**14, r=8, p=1: about 16 MB and ~50 ms per hash; a station hashes once per connection.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A self-describing hash: `scrypt$N$r$p$salt$hash`."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (constant time)."""
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
