"""The strawberry schema and the ASGI app that serves it over HTTP and websocket."""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.unset import UNSET, UnsetType

from app.auth import service as auth
from app.commands.gateway import ChargerGateway
from app.errors import CPMSError, NotAuthenticated
from app.runtime import Runtime
from schema.access import acting_for, bearer_secret, connection_credential, identify
from schema.alert_types import AlertMutation
from schema.anonymous import AnonymousSchemaLimits
from schema.billing_types import PaymentMutation
from schema.context import Context
from schema.demand_response import DemandResponseMutation
from schema.document_limit import DocumentLengthLimit
from schema.errors import PublicErrors, log_errors
from schema.fresh_credentials import FreshCredentials
from schema.graphiql import graphiql_page
from schema.id_tokens import IdTokenMutation
from schema.management import ManagementMutation
from schema.mutation import AccountMutation
from schema.open_sockets import OpenSockets
from schema.operations import OperationMutation
from schema.organizations import PlatformMutation
from schema.partners import PartnerMutation, PartnerSettingsMutation
from schema.query import Query
from schema.storable_text import StorableText
from schema.subscription import Subscription
from schema.tariff_types import TariffMutation
from schema.timing import OperationTimer
from schema.uptime_types import MaintenanceMutation

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")

MAX_QUERY_DEPTH = 10


def _introspection(ignore: IgnoreContext) -> bool:
    # GraphiQL's and codegen tools' introspection query nests deeper than any real query.
    return ignore.field_name.startswith("__")


MAX_ALIASES = 30
MAX_TOKENS = 2000

Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        ManagementMutation,
        IdTokenMutation,
        OperationMutation,
        AlertMutation,
        TariffMutation,
        PaymentMutation,
        MaintenanceMutation,
        PlatformMutation,
        PartnerMutation,
        PartnerSettingsMutation,
        DemandResponseMutation,
    ),
)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        DocumentLengthLimit,
        StorableText,
        AnonymousSchemaLimits,
        partial(QueryDepthLimiter, max_depth=MAX_QUERY_DEPTH, should_ignore=_introspection),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        FreshCredentials,
        PublicErrors,
        OperationTimer,
    ],
)


@cache
def schema_sdl() -> str:
    """The schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"


async def schema_file(request: Request) -> Response:
    """`GET /graphql/schema.graphql`: the SDL, for integrators who diff it; with a credential
    only, like introspection, when CPMS_ANONYMOUS_INTROSPECTION is false."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.anonymous_introspection:
        secret = bearer_secret(request.headers.get("authorization"))
        try:
            if secret is None:
                raise NotAuthenticated("sign in: send Authorization: Bearer <key>")
            await auth.authenticate(runtime.unit_of_work(), secret)
        except CPMSError as refused:
            return PlainTextResponse(refused.message, status_code=401)
    return PlainTextResponse(schema_sdl(), media_type="application/graphql; charset=utf-8")


class _RefusingSocket:
    """A websocket whose "internal error" close (1011) reads 4403 Forbidden: what the legacy
    protocol's handler sends after refusing a connection_init's credential."""

    def __init__(self, websocket: Any) -> None:
        self._websocket = websocket

    async def close(self, code: int, reason: str) -> None:
        if code == 1011:
            code, reason = 4403, "Forbidden"
        await self._websocket.close(code, reason)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._websocket, name)


class LegacyProtocolHandler(BaseGraphQLWSHandler[Context, None]):
    """subscriptions-transport-ws: a refused credential closes with 4403, as on the current
    protocol, not with 1011 (which says the server failed)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        websocket = self.websocket
        self.websocket = _RefusingSocket(websocket)  # type: ignore[assignment]
        try:
            await super().handle_connection_init(message)
        finally:
            self.websocket = websocket


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI app with our context, both websocket protocols and keep-alive."""

    graphql_ws_handler_class = LegacyProtocolHandler

    def __init__(self, runtime: Runtime, gateway: ChargerGateway) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.runtime = runtime
        self.gateway = gateway
        self.sockets = OpenSockets(runtime)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_page())

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(
            runtime=self.runtime,
            gateway=self.gateway,
            request=request,
            response=response,
            sockets=self.sockets if isinstance(request, WebSocket) else None,
        )
        await identify(
            context,
            self.runtime,
            bearer_secret(request.headers.get("authorization")),
            acting_for(request.headers),
        )
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Subscriptions authenticate in connection_init (browsers cannot set headers on a
        websocket); a header, where a client can send one, works as well."""
        secret = connection_credential(context.connection_params)
        acting = acting_for(context.connection_params)
        if secret is not None:
            context.caller, context.refusal = None, None
            await identify(context, self.runtime, secret, acting)
        else:
            secret = bearer_secret(context.request.headers.get("authorization"))
            acting = acting_for(context.request.headers)
        if context.caller is None or secret is None:
            raise ConnectionRejectionError({"message": context.refusal or "sign in first"})
        assert isinstance(context.request, WebSocket)
        context.open_socket = await self.sockets.add(
            context.request, secret, acting, context.caller
        )
        return UNSET

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Context | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        finally:
            if isinstance(request, WebSocket):
                self.sockets.discard(request)
