"""How failures reach API clients.

Expected failures (CPMSError) keep their message and carry their code in
`extensions.code`; mutations return them as typed results instead. Anything unexpected is
logged with its traceback and reaches the client only as "Unexpected error." with the code
`internal`: no stack traces, no SQL, no internals."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.errors import CPMSError

UNEXPECTED = "Unexpected error."


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
