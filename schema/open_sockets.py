"""The API websockets open on this node, each with the credential it was opened with.

A websocket authenticates once, in connection_init, and may then stay open for days. So that a
revoked credential stops working everywhere at once, each operation checks it again, and a
socket whose credential no longer holds (revoked, expired, its user deactivated or given another
role, its organization suspended) is closed with 4403:
- at once, when any node publishes `CredentialsChanged` for its organization;
- at its expiry, for a login token;
- and every `CPMS_CREDENTIAL_RECHECK_S`, for what no event announced (a database edited by
  hand, an event lost while the bus was away)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from starlette.websockets import WebSocket, WebSocketState

from app.auth import service as auth
from app.auth.models import Principal
from app.errors import CPMSError
from app.events import CredentialsChanged
from app.runtime import Runtime
from app.timeparse import utcnow

logger = logging.getLogger(__name__)

REVOKED_CLOSE_CODE = 4403
EXPIRY_TICK_S = 1.0


@dataclass(eq=False)
class OpenSocket:
    websocket: WebSocket
    secret: str
    acting_for: str | None
    principal: Principal  # as identified when it opened
    expires_at: datetime | None
    closing: bool = field(default=False)


class OpenSockets:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._open: dict[int, OpenSocket] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()

    async def add(
        self, websocket: WebSocket, secret: str, acting_for: str | None, principal: Principal
    ) -> OpenSocket:
        socket = OpenSocket(websocket, secret, acting_for, principal, await auth.expiry(secret))
        self._open[id(websocket)] = socket
        return socket

    def discard(self, websocket: WebSocket) -> None:
        self._open.pop(id(websocket), None)

    def __len__(self) -> int:
        return len(self._open)

    async def holds(self, socket: OpenSocket) -> bool:
        """Whether the socket's credential still grants what it granted when it opened; if
        not, the socket is being closed."""
        if socket.closing:
            return False
        try:
            principal: Principal | None = await auth.authenticate_acting_for(
                self._runtime.unit_of_work(), socket.secret, socket.acting_for
            )
        except CPMSError:
            principal = None
        if principal == socket.principal:
            return True
        self._close(socket)
        return False

    async def recheck(self, organization_id: int | None = None) -> None:
        """Check the credentials of the open sockets (of one organization) again."""
        for socket in list(self._open.values()):
            if organization_id in (None, socket.principal.organization_id):
                try:
                    await self.holds(socket)
                except Exception:  # the database away: the next round checks again
                    logger.warning("cannot check a websocket's credential", exc_info=True)

    async def start(self) -> None:
        listening = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._follow_changes(listening), name="credential-changes"),
            asyncio.create_task(self._close_expired(), name="credential-expiry"),
            asyncio.create_task(self._recheck_all(), name="credential-recheck"),
        ]
        await asyncio.wait_for(listening.wait(), 10)

    async def stop(self) -> None:
        for task in [*self._tasks, *self._closing]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._closing, return_exceptions=True)
        self._tasks = []

    async def _follow_changes(self, listening: asyncio.Event) -> None:
        while True:
            try:
                async with self._runtime.bus.subscribe(CredentialsChanged) as changes:
                    listening.set()
                    async for change in changes:
                        assert isinstance(change, CredentialsChanged)
                        await self.recheck(change.organization_id)
            except Exception:  # the bus away: subscribe again; the periodic check covers the gap
                logger.warning("lost the credential changes; subscribing again", exc_info=True)
                await asyncio.sleep(1)

    async def _close_expired(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_TICK_S)
            now = utcnow()
            for socket in list(self._open.values()):
                if socket.expires_at is not None and socket.expires_at <= now:
                    self._close(socket)

    async def _recheck_all(self) -> None:
        while True:
            await asyncio.sleep(self._runtime.settings.credential_recheck_s)
            await self.recheck()

    def _close(self, socket: OpenSocket) -> None:
        if socket.closing:
            return
        socket.closing = True
        self.discard(socket.websocket)
        task = asyncio.create_task(_close(socket.websocket))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _close(websocket: WebSocket) -> None:
    if websocket.application_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(RuntimeError, OSError):  # it closed meanwhile
        await websocket.close(REVOKED_CLOSE_CODE, "credential revoked or expired")
