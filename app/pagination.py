"""Keyset pagination, shared by every list the API pages through. Pure: no I/O.

A page starts after a position (the sort key of the last item seen, ending with the row id to
break ties), so paging stays correct and fast however deep it goes, unlike an offset. A page
can also be read backwards: the `last` items before a position."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

# (sort value, id), or (id,) when the id is the sort key
Position = tuple[str | int, ...]


@dataclass(frozen=True)
class PageRequest:
    first: int = DEFAULT_PAGE_SIZE
    after: Position | None = None
    last: int | None = None
    before: Position | None = None

    @property
    def backwards(self) -> bool:
        """`last` asks for the items just before `before` (or the end), still in list order."""
        return self.last is not None

    @property
    def size(self) -> int:
        """The page size, capped: a client cannot ask for the whole table at once."""
        wanted = self.last if self.last is not None else self.first
        return max(0, min(wanted, MAX_PAGE_SIZE))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    positions: list[Position]
    has_next: bool
    has_previous: bool
    # how many items the whole list holds, filters applied; asked only when a client wants it
    count: Callable[[], Awaitable[int]] = field(compare=False)
