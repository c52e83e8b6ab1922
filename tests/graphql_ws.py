"""A minimal GraphQL-over-websocket client for tests, speaking either protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class GraphQLSubscriptionClient:
    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(json.dumps({"id": "1", "type": kind, "payload": payload}))

    async def next_data(self) -> dict[str, Any]:
        """The next result's data, skipping keep-alives."""
        while True:
            message = json.loads(await self.connection.recv())
            if message["type"] in ("next", "data"):
                assert not message["payload"].get("errors"), message
                return message["payload"]["data"]
            assert message["type"] in ("ping", "pong", "ka"), message


@asynccontextmanager
async def graphql_ws(
    url: str, protocol: str = TRANSPORT_WS, token: str | None = None
) -> AsyncIterator[GraphQLSubscriptionClient]:
    """A connection acknowledged by the server; the token goes in connection_init."""
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(url, subprotocols=[Subprotocol(protocol)]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        while True:
            ack = json.loads(await connection.recv())
            if ack["type"] == "connection_ack":
                break
            assert ack["type"] == "ka", ack
        yield GraphQLSubscriptionClient(connection, protocol)
