"""Outbound work that must not be lost (payment captures and releases, notifications):
written in the same transaction as what caused it, delivered by a worker, retried with
back-off until it succeeds.

Every node runs a worker. A message is claimed by setting its next attempt a lease ahead, in
one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so exactly one node works on it, and
a node that dies mid-way hands it over when the lease runs out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count, Min

from app.errors import CPMSError
from app.timeparse import utcnow
from db.tables import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

LEASE = timedelta(minutes=2)
MAX_BACKOFF_S = 3600
MAX_ATTEMPTS = 20
BATCH = 20


class Retry(CPMSError):
    """A handler's way to say: not now, try again later (the provider is down, ...)."""

    code = "retry"


@dataclass(frozen=True)
class Message:
    """One message to queue: `dedupe_key` makes queuing it twice one message."""

    organization_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    not_before: datetime | None = None


# Rows per INSERT: well under either engine's limit on one statement's parameters.
INSERT_CHUNK = 500


async def enqueue(
    organization_id: int,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    not_before: datetime | None = None,
) -> None:
    """Queue a message, inside the caller's transaction; the same `dedupe_key` twice is one
    message."""
    await enqueue_many([Message(organization_id, kind, payload, dedupe_key, not_before)])


async def enqueue_many(messages: Sequence[Message]) -> None:
    """Queue many messages in a few statements (a node taking thousands of stations offline
    at once), inside the caller's transaction; a `dedupe_key` already queued is skipped."""
    now = utcnow()
    for start in range(0, len(messages), INSERT_CHUNK):
        rows = [
            OutboxMessage(
                organization=message.organization_id,
                kind=message.kind,
                destination=message.kind,
                payload=message.payload,
                dedupe_key=message.dedupe_key,
                next_attempt_at=message.not_before or now,
            )
            for message in messages[start : start + INSERT_CHUNK]
        ]
        await OutboxMessage.insert(*rows).on_conflict(
            target=OutboxMessage.dedupe_key, action="DO NOTHING"
        )


async def pending_stats() -> tuple[int, datetime | None]:
    """How many messages wait for delivery, and since when the oldest."""
    rows = await OutboxMessage.select(
        Count(OutboxMessage.id, alias="pending"), Min(OutboxMessage.created_at, alias="oldest")
    ).where(OutboxMessage.status == "pending")
    row: dict[str, Any] = rows[0] if rows else {"pending": 0, "oldest": None}
    oldest = row["oldest"]
    if isinstance(oldest, str):  # SQLite gives aggregates back as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(row["pending"] or 0), oldest


def _claim_sql(postgres: bool, kinds: int) -> str:
    # Only constants and placeholders are formatted in; the times and kinds are parameters.
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    placeholders = ", ".join(["{}"] * kinds)
    return (
        "UPDATE outbox_message SET next_attempt_at = {}, attempts = attempts + 1"  # noqa: S608
        " WHERE id IN (SELECT id FROM outbox_message"
        f" WHERE status = 'pending' AND next_attempt_at <= {{}} AND kind IN ({placeholders})"
        f" ORDER BY next_attempt_at, id LIMIT {BATCH}{lock})"
        " RETURNING id, kind, payload, attempts"
    )


class OutboxWorker:
    """Delivers due messages of the kinds it has handlers for, every `interval_s`. A kind it
    does not know is left to a node that does (during a rolling upgrade an older node must not
    give up a newer node's messages); until one claims it, it counts as pending."""

    def __init__(self, handlers: Mapping[str, Handler], interval_s: float = 1.0) -> None:
        self._handlers = dict(handlers)
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def nudge(self) -> None:
        """Deliver now rather than at the next tick (after enqueuing)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                while await self.deliver_due():
                    pass
            except Exception:
                logger.exception("outbox delivery failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Claim and deliver what is due; how many messages were claimed."""
        if not self._handlers:
            return 0
        now = utcnow()
        postgres = isinstance(OutboxMessage._meta.db, PostgresEngine)
        claimed = await OutboxMessage.raw(
            _claim_sql(postgres, len(self._handlers)), now + LEASE, now, *self._handlers
        )
        for row in claimed:
            payload = row["payload"]
            await self._deliver(
                row["id"],
                row["kind"],
                json.loads(payload) if isinstance(payload, str) else payload,
                row["attempts"],
            )
        return len(claimed)

    async def _deliver(
        self, message_id: int, kind: str, payload: dict[str, Any], attempts: int
    ) -> None:
        handler = self._handlers[kind]
        try:
            await handler(payload)
        except Retry as error:
            await self._failed(message_id, attempts, error.message, final=False)
        except CPMSError as error:
            await self._failed(message_id, attempts, f"{error.code}: {error.message}", final=True)
        except Exception as error:
            logger.exception("outbox message %s (%s) failed", message_id, kind)
            await self._failed(message_id, attempts, repr(error), final=False)
        else:
            await OutboxMessage.update(
                {OutboxMessage.status: "delivered", OutboxMessage.delivered_at: utcnow()}
            ).where(OutboxMessage.id == message_id)

    async def _failed(self, message_id: int, attempts: int, error: str, *, final: bool) -> None:
        dead = final or attempts >= MAX_ATTEMPTS
        if dead:
            logger.error("outbox message %s gave up: %s", message_id, error)
        delay = timedelta(seconds=min(2**attempts, MAX_BACKOFF_S))
        await OutboxMessage.update(
            {
                OutboxMessage.status: "dead" if dead else "pending",
                OutboxMessage.last_error: error[:2000],
                OutboxMessage.next_attempt_at: utcnow() + delay,
            }
        ).where(OutboxMessage.id == message_id)
