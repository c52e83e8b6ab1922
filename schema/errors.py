"""How failures reach API clients.

Expected failures (CPMSError) keep their message and carry their code in
`extensions.code`; mutations return them as typed results instead. Anything unexpected is
logged with its traceback and reaches the client only as "Unexpected error." with the code
`internal`: no stack traces, no SQL, no internals. Only those are logged as errors; an
expected failure or a query the schema refuses is one INFO line, without a trace."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from app.errors import CPMSError
from db.engine import unreachable

UNEXPECTED = "Unexpected error."
UNAVAILABLE = "the database is unavailable: try again in a few seconds"
RETRY_AFTER_S = 5

logger = logging.getLogger("cpms.graphql")


def expected(error: GraphQLError) -> bool:
    """A failure the API answers on purpose: bad input, not found, not permitted, a query the
    schema or a limit refuses."""
    original = error.original_error
    return original is None or isinstance(original, CPMSError | GraphQLError)


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    for error in errors:
        if error.original_error is not None and unreachable(error.original_error):
            logger.warning("the database is unreachable: %s", error.original_error)
            continue
        if not expected(error):
            StrawberryLogger.error(error, execution_context)
            continue
        original = error.original_error
        code = original.code if isinstance(original, CPMSError) else "invalid_query"
        path = ".".join(str(part) for part in error.path or [])
        logger.info("refused: %s", error.message, extra={"code": code, "path": path})


def _public(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error  # a malformed or invalid query: its message is about the query
    if isinstance(original, CPMSError):
        error.extensions = {**(error.extensions or {}), "code": original.code}
        return error
    if unreachable(original):
        return GraphQLError(
            UNAVAILABLE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "unavailable", "retryAfterS": RETRY_AFTER_S},
        )
    return GraphQLError(
        UNEXPECTED,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "internal"},
    )


class PublicErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_public(error) for error in errors]
            if any(
                e.extensions and e.extensions.get("code") == "unavailable" for e in result.errors
            ):
                _answer_unavailable(self.execution_context.context)


def _answer_unavailable(context: object) -> None:
    """Over HTTP, a request the database could not serve is a 503 with Retry-After: clients
    and proxies know to try again."""
    response = getattr(context, "response", None)
    if isinstance(response, Response):
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
