"""Text no database can store is refused before an operation runs."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.sanitize import holds_unstorable, json_holds_unstorable, may_hold_unstorable

REFUSAL = (
    "text may not hold a NUL character (\\u0000) or an unpaired surrogate (\\ud800 to \\udfff): "
    "no database stores them"
)


class StorableText(SchemaExtension):
    """A NUL or a lone surrogate in a document or its variables would fail at the database, as
    an unexpected error and after any work done before the write: it is an input error,
    answered with code `invalid_input` before anything runs."""

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if (
            may_hold_unstorable(query)
            or holds_unstorable(query)
            or json_holds_unstorable(self.execution_context.variables)
        ):
            raise GraphQLError(REFUSAL, extensions={"code": "invalid_input"})
        yield
