"""Who reacts to what the core records.

The core says what happened as the typed events of `app.events` and knows nobody who cares.
Consumers (healing, billing, smart charging, roaming) register handlers for the events they
care about, all in the composition root (`app/main.py`), so that one file shows who reacts to
what. Two kinds:

- *in transaction*: runs inside the unit of work that emitted the event, before it commits;
  what it writes commits or rolls back with the fact, and its failure fails the fact;
- *after commit*: runs once the fact is durable (after the commit, or after a group commit
  wrote it), with a fresh unit of work of its own; its failure is logged and leaves the fact
  as it is, so what must not be lost is caught up from stored state (the next report, a
  periodic round) or queued in the outbox by an in-transaction reaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from app.events import DomainEvent

if TYPE_CHECKING:  # the unit of work runs the reactions: each module names the other
    from app.unit_of_work import UnitOfWork

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[["UnitOfWork", Sequence[Any]], Awaitable[None]]
# An after-commit handler, and which events it wants (None: all of its type). The hot path
# publishes an event per message: a reaction to few of them says so, and the others cost a
# call of `when`, not a unit of work and a coroutine.
AfterCommit = tuple[Handler, Callable[[Any], bool] | None]


class Reactions:
    """The handlers registered per event type."""

    def __init__(self) -> None:
        self._in_transaction: dict[type[DomainEvent], list[Handler]] = defaultdict(list)
        self._after_commit: dict[type[DomainEvent], list[AfterCommit]] = defaultdict(list)

    def in_transaction(
        self, event_type: type[E], handler: Callable[[UnitOfWork, Sequence[E]], Awaitable[None]]
    ) -> None:
        """Run `handler` inside the emitting unit of work, before it commits, with the events
        of this type it emitted (in order: a unit that records many stations at once, a
        batch of disconnects, is reacted to in one call)."""
        self._in_transaction[event_type].append(handler)

    def after_commit(
        self,
        event_type: type[E],
        handler: Callable[[UnitOfWork, Sequence[E]], Awaitable[None]],
        when: Callable[[E], bool] | None = None,
    ) -> None:
        """Run `handler` once the events are durable, with a unit of work of its own (not yet
        entered) and the events of this type (those `when` accepts, if given)."""
        self._after_commit[event_type].append((handler, when))

    def handlers_after_commit(self, event_type: type[DomainEvent]) -> list[AfterCommit]:
        return self._after_commit.get(event_type, [])

    def handlers_in_transaction(self, event_type: type[DomainEvent]) -> list[Handler]:
        # A dict lookup: an event nobody reacts to costs nothing more.
        return self._in_transaction.get(event_type, [])

    def table(self) -> list[tuple[str, str, str]]:
        """(event, kind, handler) for every registration, for the docs and the tests."""
        rows = [
            (event_type.__name__, "in transaction", _name(handler))
            for event_type, handlers in self._in_transaction.items()
            for handler in handlers
        ]
        return rows + [
            (event_type.__name__, "after commit", _name(handler))
            for event_type, registered in self._after_commit.items()
            for handler, _when in registered
        ]


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


NO_REACTIONS = Reactions()
