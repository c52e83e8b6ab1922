"""Who calls: `Authorization: Token <base64 of the token>` (OCPI 2.2.1), or the token as it
is, which 2.1.1-era peers send."""

from __future__ import annotations

import base64
import binascii
import re

from starlette.requests import Request

from app.roaming import service as roaming
from app.roaming.models import CallingPartner
from ocpi.envelope import Status, unauthorized

_TOKEN = re.compile(r"^[\x21-\x7e]{1,64}$")
# Base64 of a 64-character token is 88 characters; anything longer is no token of ours.
MAX_HEADER_TOKEN_CHARS = 100


def header_tokens(header: str | None) -> list[str]:
    """The tokens an Authorization header may carry: its value decoded, then as it is."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value or len(value) > MAX_HEADER_TOKEN_CHARS:
        return []
    candidates = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
        if _TOKEN.match(decoded):
            candidates.append(decoded)
    except (binascii.Error, UnicodeDecodeError):
        pass
    if _TOKEN.match(value) and value not in candidates:
        candidates.append(value)
    return candidates


async def caller(request: Request, *, registration: bool = False) -> tuple[CallingPartner, str]:
    """The partner calling and the token it used; HTTP 401 for none. Token A (registering)
    opens only the versions and credentials endpoints (`registration=True`)."""
    tokens = header_tokens(request.headers.get("authorization"))
    if not tokens:
        raise unauthorized("send Authorization: Token <base64 of the credentials token>")
    found = await roaming.calling_partner(tokens)
    if found is None:
        raise unauthorized("unknown credentials token", Status.UNKNOWN_TOKEN)
    partner, token = found
    if not partner.registered and not registration:
        raise unauthorized("register first: this token opens only versions and credentials")
    return partner, token
