"""Secrets handed to API clients: API keys and login tokens. Pure: no I/O.

Both are 256-bit random strings, so a plain SHA-256 is enough to store them (a slow hash
protects guessable passwords, not random keys) and keeps checking one per request cheap. The
kind prefix tells the two apart; an API key also carries its lookup prefix, so it is found
by an index and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_KIND = "cpms_key"
PLATFORM_KEY_KIND = "cpms_pk"
LOGIN_TOKEN_KIND = "cpms_tok"
LOOKUP_PREFIX_CHARS = 12


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(kind: str = API_KEY_KIND) -> tuple[str, str]:
    """(key, lookup prefix): `<kind>_<prefix>_<secret>`, kind `cpms_key` or `cpms_pk`."""
    prefix = secrets.token_hex(LOOKUP_PREFIX_CHARS // 2)
    return f"{kind}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def new_login_token() -> str:
    return f"{LOGIN_TOKEN_KIND}_{secrets.token_urlsafe(32)}"


def api_key_prefix(secret: str, kind: str = API_KEY_KIND) -> str | None:
    """The lookup prefix of something shaped like a key of this kind, else None."""
    head = f"{kind}_"
    if not secret.startswith(head):
        return None
    prefix, separator, rest = secret[len(head) :].partition("_")
    if len(prefix) != LOOKUP_PREFIX_CHARS or not separator or not rest:
        return None
    return prefix


def is_login_token(secret: str) -> bool:
    return secret.startswith(f"{LOGIN_TOKEN_KIND}_")


def same_digest(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
