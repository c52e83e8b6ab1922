"""The outbox: each message delivered once, however many workers (nodes) are after it;
failures retried later; a refusal given up on; a kind the worker does not know left alone."""

import asyncio

from app import outbox
from app.errors import CPMSError
from app.outbox import OutboxWorker
from db.tables import OutboxMessage


async def test_two_workers_deliver_each_message_once(organization, unit_of_work):
    delivered: list[tuple[str, int]] = []

    def handler_for(node: str):
        async def handle(payload: dict) -> None:
            await asyncio.sleep(0.01)  # both workers are in flight at the same time
            delivered.append((node, payload["n"]))

        return handle

    async with unit_of_work():
        for n in range(30):
            await outbox.enqueue(organization, "test.work", {"n": n}, f"test-{n}")
        await outbox.enqueue(organization, "test.work", {"n": 0}, "test-0")  # a duplicate
    first = OutboxWorker({"test.work": handler_for("a")})
    second = OutboxWorker({"test.work": handler_for("b")})
    for _ in range(5):
        await asyncio.gather(first.deliver_due(), second.deliver_due())
    assert sorted(n for _, n in delivered) == list(range(30))
    assert await OutboxMessage.count().where(OutboxMessage.status == "delivered") == 30


async def test_a_failure_is_retried_later_and_a_refusal_given_up(organization, unit_of_work):
    calls = 0

    async def flaky(payload: dict) -> None:
        nonlocal calls
        calls += 1
        raise outbox.Retry("not now")

    async def refuse(payload: dict) -> None:
        raise CPMSError("the provider refused it")

    async with unit_of_work():
        await outbox.enqueue(organization, "test.flaky", {}, "flaky")
        await outbox.enqueue(organization, "test.refused", {}, "refused")
        await outbox.enqueue(organization, "test.unknown", {}, "unknown")
    worker = OutboxWorker({"test.flaky": flaky, "test.refused": refuse})
    await worker.deliver_due()
    await worker.deliver_due()  # not due again yet: backed off
    assert calls == 1
    rows = {
        row["dedupe_key"]: row
        for row in await OutboxMessage.select(
            OutboxMessage.dedupe_key,
            OutboxMessage.status,
            OutboxMessage.last_error,
            OutboxMessage.attempts,
        )
    }
    assert rows["flaky"]["status"] == "pending" and rows["flaky"]["last_error"] == "not now"
    assert rows["refused"]["status"] == "dead"
    assert "the provider refused it" in rows["refused"]["last_error"]
    # A kind this worker has no handler for is left, untouched, to a node that knows it.
    assert rows["unknown"]["status"] == "pending" and rows["unknown"]["attempts"] == 0
