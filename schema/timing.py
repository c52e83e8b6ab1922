"""Times every GraphQL operation by its name, type and outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app import metrics


class OperationTimer(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
        except Exception:  # a document that did not parse has no operation type
            kind = "invalid"
        outcome = "error" if getattr(context.result, "errors", None) else "ok"
        metrics.GRAPHQL_OPERATION_SECONDS.labels(
            operation=metrics.operation_label(context.operation_name), type=kind, outcome=outcome
        ).observe(time.perf_counter() - started)
