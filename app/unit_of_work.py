"""One database transaction per incoming message or request; its events go out after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from app.events import DomainEvent, EventBus
from app.reactions import NO_REACTIONS, Handler, Reactions
from db.group_commit import GroupCommit

logger = logging.getLogger(__name__)


class UnitOfWork:
    """`async with uow:` runs one transaction; events emitted inside are published only if it
    commits, so subscribers never see work that rolled back. Before it commits, the reactions
    registered for its events run inside it (app.reactions)."""

    def __init__(
        self,
        engine: Engine,
        bus: EventBus,
        write_lock: asyncio.Lock | None,
        grouped: GroupCommit | None = None,
        reactions: Reactions = NO_REACTIONS,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._write_lock = write_lock
        self._reactions = reactions
        # For the hottest writes: many stations' writes share one commit (PostgreSQL only).
        self.grouped = grouped
        self._events: list[DomainEvent] = []
        self._transaction: Any = None

    async def publish(self, *events: DomainEvent) -> None:
        """Publish events of a write that has committed outside this unit (group commit), and
        run their after-commit reactions."""
        for event in events:
            await self._bus.publish(event)
        await self._react_after_commit(events)

    def emit(self, event: DomainEvent) -> None:
        """Queue an event to publish once the transaction has committed."""
        self._events.append(event)

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
        try:
            if isinstance(self._engine, SQLiteEngine):
                # Take the write lock up front: a deferred transaction that later writes can
                # fail with "database is locked" instead of waiting.
                transaction = self._engine.transaction(transaction_type=TransactionType.immediate)
            else:
                transaction = self._engine.transaction()
            await transaction.__aenter__()
        except BaseException:
            self._release()
            raise
        self._transaction = transaction
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        failed_reaction: BaseException | None = None
        if exc_type is None:
            try:
                await self._react()
            except BaseException as error:  # the fact rolls back with what reacted to it
                failed_reaction = error
                exc_type, exc, traceback = type(error), error, error.__traceback__
        try:
            await self._transaction.__aexit__(exc_type, exc, traceback)
        finally:
            self._release()
        events, self._events = self._events, []
        if failed_reaction is not None:
            raise failed_reaction
        if exc_type is None:
            for event in events:
                await self._bus.publish(event)
            await self._react_after_commit(events)

    async def _react(self) -> None:
        """Run the in-transaction reactions to the events, by type, and then to the events
        the reactions emitted."""
        handled = 0
        while handled < len(self._events):
            batch = self._events[handled:]
            handled = len(self._events)
            for event_type, events in _by_type(batch).items():
                for handler in self._reactions.handlers_in_transaction(event_type):
                    await handler(self, events)

    async def _react_after_commit(self, events: Sequence[DomainEvent]) -> None:
        """Run the after-commit reactions, each with a unit of work of its own; a failure is
        logged: the fact is durable whatever its reactions do."""
        if len(events) == 1:  # the hot path: one status or meter value, one message
            event = events[0]
            for handler, when in self._reactions.handlers_after_commit(type(event)):
                if when is None or when(event):
                    await self._run_after_commit(handler, events)
            return
        for event_type, batch in _by_type(events).items():
            for handler, when in self._reactions.handlers_after_commit(event_type):
                wanted = batch if when is None else [event for event in batch if when(event)]
                if wanted:
                    await self._run_after_commit(handler, wanted)

    async def _run_after_commit(self, handler: Handler, events: Sequence[DomainEvent]) -> None:
        try:
            await handler(self._sibling(), events)
        except Exception:
            logger.exception("a reaction to %s failed", type(events[0]).__name__)

    def _sibling(self) -> UnitOfWork:
        return UnitOfWork(self._engine, self._bus, self._write_lock, self.grouped, self._reactions)

    def _release(self) -> None:
        if self._write_lock is not None and self._write_lock.locked():
            self._write_lock.release()


def _by_type(events: Sequence[DomainEvent]) -> dict[type[DomainEvent], list[DomainEvent]]:
    """The events by type, each type's in the order they were emitted."""
    grouped: dict[type[DomainEvent], list[DomainEvent]] = {}
    for event in events:
        grouped.setdefault(type(event), []).append(event)
    return grouped


class UnitOfWorkFactory:
    """Makes units of work; on SQLite, writes in this process are serialised (one file lock)."""

    def __init__(
        self,
        engine: Engine,
        bus: EventBus,
        grouped: GroupCommit | None = None,
        reactions: Reactions = NO_REACTIONS,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._write_lock = asyncio.Lock() if isinstance(engine, SQLiteEngine) else None
        self._grouped = grouped
        self.reactions = reactions

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._engine, self._bus, self._write_lock, self._grouped, self.reactions)
