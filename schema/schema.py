"""The strawberry schema and the ASGI app that serves it over HTTP and websocket."""

from __future__ import annotations

from pathlib import Path

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from app.runtime import Runtime
from schema.context import Context
from schema.query import Query
from schema.subscription import Subscription

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")

schema = strawberry.Schema(query=Query, subscription=Subscription)


def schema_sdl() -> str:
    """The schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI app with our context, both websocket protocols and keep-alive."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(runtime=self.runtime, request=request, response=response)
