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
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from app.errors import CPMSError

UNEXPECTED = "Unexpected error."

logger = logging.getLogger("cpms.graphql")


def expected(error: GraphQLError) -> bool:
    """A failure the API answers on purpose: bad input, not found, not permitted, a query the
    schema or a limit refuses."""
    original = error.original_error
    return original is None or isinstance(original, CPMSError | GraphQLError)


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    for error in errors:
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
