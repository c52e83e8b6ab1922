"""Reactions in the transaction: they run inside the unit of work that emitted the event, so
what they write commits with the fact, and a failing reaction takes the fact back with it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from app import outbox
from app.events import DomainEvent
from app.main import reactions as wired_reactions
from app.reactions import Reactions
from app.unit_of_work import UnitOfWork, UnitOfWorkFactory
from db.engine import configured_engine
from db.tables import OutboxMessage


class Noticed(DomainEvent):
    kind: ClassVar[str] = "test.noticed"
    organization_id: int
    n: int


class Echoed(DomainEvent):
    kind: ClassVar[str] = "test.echoed"
    organization_id: int
    n: int


async def queued() -> list[int]:
    rows = (
        await OutboxMessage.select(OutboxMessage.payload)
        .order_by(OutboxMessage.id)
        .output(load_json=True)
    )
    return [row["payload"]["n"] for row in rows]


def factory_with(bus, registry: Reactions) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(configured_engine(), bus, reactions=registry)


async def test_a_reaction_commits_with_the_fact_and_may_emit_more(organization, bus):
    seen: list[DomainEvent] = []
    calls: list[int] = []

    async def note(uow: UnitOfWork, events: Sequence[Noticed]) -> None:
        calls.append(len(events))  # the unit's events of a type come in one call
        for event in events:
            n = event.n + 1
            await outbox.enqueue(event.organization_id, "test.reacted", {"n": n}, f"r{n}")
            uow.emit(Echoed(organization_id=event.organization_id, n=event.n + 1))

    async def echo(_uow: UnitOfWork, events: Sequence[Echoed]) -> None:
        seen.extend(events)

    registry = Reactions()
    registry.in_transaction(Noticed, note)
    registry.in_transaction(Echoed, echo)
    async with factory_with(bus, registry)() as uow:
        await outbox.enqueue(organization, "test.fact", {"n": 1}, "fact")
        uow.emit(Noticed(organization_id=organization, n=1))
        uow.emit(Noticed(organization_id=organization, n=10))
    assert await queued() == [1, 2, 11]
    assert calls == [2]
    assert [event.n for event in seen] == [2, 11]


async def test_a_failing_reaction_rolls_the_fact_back(organization, bus):
    async def refuse(_uow: UnitOfWork, _events: Sequence[Noticed]) -> None:
        raise RuntimeError("cannot")

    registry = Reactions()
    registry.in_transaction(Noticed, refuse)
    with pytest.raises(RuntimeError, match="cannot"):
        async with factory_with(bus, registry)() as uow:
            await outbox.enqueue(organization, "test.fact", {"n": 1}, "fact")
            uow.emit(Noticed(organization_id=organization, n=1))
    assert await queued() == []


async def test_an_after_commit_reaction_sees_the_fact_and_its_failure_leaves_it(
    organization, bus, caplog
):
    seen: list[list[int]] = []

    async def look(uow: UnitOfWork, events: Sequence[Noticed]) -> None:
        async with uow:  # a unit of work of its own: the fact has committed
            seen.append(await queued())
        raise RuntimeError("lagging")

    registry = Reactions()
    registry.after_commit(Noticed, look)
    async with factory_with(bus, registry)() as uow:
        await outbox.enqueue(organization, "test.fact", {"n": 1}, "fact")
        uow.emit(Noticed(organization_id=organization, n=1))
        assert seen == []  # not before the commit
    assert seen == [[1]]
    assert await queued() == [1]
    assert "a reaction to Noticed failed" in caplog.text
    # Events written by group commit, published afterwards, get them too.
    await factory_with(bus, registry)().publish(Noticed(organization_id=organization, n=2))
    assert seen == [[1], [1]]


def test_the_architecture_page_lists_every_reaction_main_wires():
    """docs/architecture.md's reaction table is the registry of app/main.py, row for row."""
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    section = page.split("## Reactions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([\w.]+)`: .* \| ([\w ]+) \|$", section, re.MULTILINE)
    wired = [
        (event, handler.removeprefix("app."), kind)
        for event, kind, handler in wired_reactions().table()
    ]
    assert sorted(rows) == sorted(wired)
