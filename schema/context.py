"""Per-request GraphQL context: the runtime and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.runtime import Runtime
from schema.dataloaders import Loaders


@dataclass
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Response | WebSocket | None
    loaders: Loaders = field(default_factory=Loaders)
