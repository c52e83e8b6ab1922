"""The API's side of authentication: credentials from requests and websocket handshakes."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from app.auth import service as auth
from app.errors import CPMSError
from app.runtime import Runtime
from schema.context import Context

BEARER = "bearer "
ACTING_FOR_HEADER = "X-CPMS-Organization"


def bearer_secret(value: object) -> str | None:
    """The secret of an `Authorization: Bearer <secret>` value, or None."""
    if not isinstance(value, str) or not value.lower().startswith(BEARER):
        return None
    secret = value[len(BEARER) :].strip()
    return secret or None


def client_address(connection: HTTPConnection) -> str | None:
    """The caller's address: the peer's, or the one a trusted proxy forwarded (uvicorn's
    proxy headers, trusted from FORWARDED_ALLOW_IPS, default 127.0.0.1)."""
    return connection.client.host if connection.client is not None else None


def connection_credential(params: dict[str, Any] | None) -> str | None:
    """A websocket's credential: `{"Authorization": "Bearer …"}` in connection_init."""
    if not params:
        return None
    for name in ("Authorization", "authorization"):
        if name in params:
            return bearer_secret(params[name])
    return None


async def identify(
    context: Context, runtime: Runtime, secret: str | None, acting_for: str | None = None
) -> None:
    """Set the context's caller from a credential (a platform key acting for the organization
    `acting_for` names); a refused one is remembered, not raised, so that queries answer with
    a clear error and `login` still works."""
    if secret is None:
        return
    try:
        context.caller = await auth.authenticate_acting_for(
            runtime.unit_of_work(), secret, acting_for
        )
    except CPMSError as refused:
        context.refusal = refused.message


def acting_for(headers: Any) -> str | None:
    """The organization a platform key acts for: the X-CPMS-Organization header, or the same
    name in a websocket's connection_init."""
    if not headers:
        return None
    for name in (ACTING_FOR_HEADER, ACTING_FOR_HEADER.lower()):
        value = headers.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
