"""Who reacts to what the core records.

The core says what happened as the typed events of `app.events` and knows nobody who cares.
Consumers (healing, billing, smart charging, roaming) register handlers for the events they
care about, all in the composition root (`app/main.py`), so that one file shows who reacts to
what. A reaction *in the transaction* runs inside the unit of work that emitted the event,
before it commits: what it writes commits or rolls back with the fact. (Reactions that may lag
a fact, after it committed, are still direct calls; see docs/architecture.md.)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from app.events import DomainEvent

if TYPE_CHECKING:  # the unit of work runs the reactions: each module names the other
    from app.unit_of_work import UnitOfWork

E = TypeVar("E", bound=DomainEvent)
InTransaction = Callable[["UnitOfWork", Sequence[Any]], Awaitable[None]]


class Reactions:
    """The handlers registered per event type."""

    def __init__(self) -> None:
        self._in_transaction: dict[type[DomainEvent], list[InTransaction]] = defaultdict(list)

    def in_transaction(
        self, event_type: type[E], handler: Callable[[UnitOfWork, Sequence[E]], Awaitable[None]]
    ) -> None:
        """Run `handler` inside the emitting unit of work, before it commits, with the events
        of this type it emitted (in order: a unit that records many stations at once, a
        batch of disconnects, is reacted to in one call)."""
        self._in_transaction[event_type].append(handler)

    def handlers_in_transaction(self, event_type: type[DomainEvent]) -> list[InTransaction]:
        # A dict lookup: an event nobody reacts to costs nothing more.
        return self._in_transaction.get(event_type, [])

    def table(self) -> list[tuple[str, str, str]]:
        """(event, kind, handler) for every registration, for the docs and the tests."""
        return [
            (event_type.__name__, "in transaction", f"{h.__module__}.{h.__qualname__}")
            for event_type, handlers in self._in_transaction.items()
            for h in handlers
        ]


NO_REACTIONS = Reactions()
