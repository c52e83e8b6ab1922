"""Each operation on a websocket checks the socket's credential again."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from schema.context import Context

REFUSED = "the credential this connection opened with was revoked, or expired: sign in again"


class FreshCredentials(SchemaExtension):
    """A websocket authenticates once, when it opens; a credential revoked since (even where the
    news has not reached this node yet) answers its operations as anonymous, and the socket is
    closed. Over HTTP every request authenticates anyway."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.open_socket is not None:
            context.forget_loaded()
            assert context.sockets is not None
            if not await context.sockets.holds(context.open_socket):
                context.caller, context.refusal = None, REFUSED
        yield
