"""What an anonymous caller may learn about the schema."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema.context import Context

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$")


class AnonymousSchemaLimits(SchemaExtension):
    """With CPMS_ANONYMOUS_INTROSPECTION=false an anonymous caller gets no introspection and no
    "Did you mean" suggestions in errors; every credential still introspects."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        closed = (
            isinstance(context, Context)
            and context.caller is None
            and not context.runtime.settings.anonymous_introspection
        )
        if closed:
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, NoSchemaIntrospectionCustomRule)
        yield
        result = self.execution_context.result
        if closed and result is not None and result.errors:
            result.errors = [_without_suggestions(error) for error in result.errors]


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )
