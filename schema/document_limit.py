"""A cap on a GraphQL document's length, checked before it is parsed."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.context import Context


class DocumentLengthLimit(SchemaExtension):
    """The token limit counts neither comments nor the length of strings, and parsing a long
    document holds the event loop: a document longer than CPMS_MAX_DOCUMENT_CHARS is refused
    unread."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        length = len(self.execution_context.query or "")
        if isinstance(context, Context):
            limit = context.runtime.settings.max_document_chars
            if length > limit:
                raise GraphQLError(
                    f"the document is {length} characters long; at most {limit} are read "
                    "(CPMS_MAX_DOCUMENT_CHARS)",
                    extensions={"code": "invalid_input"},
                )
        yield
