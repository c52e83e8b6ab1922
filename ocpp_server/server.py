"""The OCPP side of one process: its open connections and its message log."""

from __future__ import annotations

import contextlib
import logging

from starlette.websockets import WebSocket

from ocpp_server.message_log import MessageLog

logger = logging.getLogger(__name__)

# Close code when a newer connection of the same station takes over (private range 4000-4999).
REPLACED_CLOSE_CODE = 4001


class OcppServer:
    """Open station connections on this process: a cache of who is connected here."""

    def __init__(self) -> None:
        self.message_log = MessageLog()
        self._connections: dict[str, WebSocket] = {}

    async def start(self) -> None:
        await self.message_log.start()

    async def stop(self) -> None:
        await self.message_log.stop()

    async def attach(self, identity: str, websocket: WebSocket) -> None:
        """Make this the station's connection, closing an older one cleanly."""
        previous = self._connections.get(identity)
        self._connections[identity] = websocket
        if previous is not None:
            logger.info("station %s reconnected; closing its previous connection", identity)
            with contextlib.suppress(RuntimeError):  # it was closing already
                await previous.close(
                    code=REPLACED_CLOSE_CODE, reason="replaced by a new connection"
                )

    def detach(self, identity: str, websocket: WebSocket) -> bool:
        """Forget this connection; False if a newer one had replaced it."""
        if self._connections.get(identity) is not websocket:
            return False
        del self._connections[identity]
        return True

    def is_connected(self, identity: str) -> bool:
        return identity in self._connections
