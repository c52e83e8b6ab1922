"""Per-request GraphQL context: the runtime, the caller, and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.auth.models import Principal
from app.commands.gateway import ChargerGateway
from app.errors import NotAuthenticated
from app.runtime import Runtime
from schema.dataloaders import Loaders
from schema.open_sockets import OpenSocket, OpenSockets


@dataclass
class Context:
    runtime: Runtime
    gateway: ChargerGateway
    request: Request | WebSocket
    response: Response | WebSocket | None
    # Who is calling: from `Authorization: Bearer …`, or a websocket's connection_init payload.
    caller: Principal | None = None
    # Why the credential given was refused (None when none was given).
    refusal: str | None = None
    connection_params: dict[str, Any] | None = None
    # A websocket's: the open sockets of this node, and this one's entry once authenticated.
    sockets: OpenSockets | None = None
    open_socket: OpenSocket | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def principal(self) -> Principal:
        """The authenticated caller; NotAuthenticated for an anonymous or refused one."""
        if self.caller is None:
            raise NotAuthenticated(self.refusal or "sign in: send Authorization: Bearer <key>")
        return self.caller

    def forget_loaded(self) -> None:
        """A websocket's operations each load afresh: its context lives as long as it does."""
        self._loaders = None

    @property
    def loaders(self) -> Loaders:
        """DataLoaders bound to the caller's organization, made on first use."""
        if self._loaders is None:
            self._loaders = Loaders(self.principal)
        return self._loaders
