"""Keyset pagination, shared by every list the API pages through. Pure: no I/O.

A page starts after a position (the sort key of the last item seen, ending with the row id to
break ties), so paging stays correct and fast however deep it goes, unlike an offset."""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def size(self) -> int:
        """The page size, capped: a client cannot ask for the whole table at once."""
        return max(0, min(self.first, MAX_PAGE_SIZE))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    positions: list[Position]
    has_next: bool
