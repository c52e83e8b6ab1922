"""Keyset pages over a Piccolo select ordered by its id: shared by every repository that lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from piccolo.columns import Column
from piccolo.query import Select

from app.pagination import Page, PageRequest, Position

T = TypeVar("T")


async def page_by_id(
    query: Select,
    id_column: Column,
    request: PageRequest,
    convert: Callable[[dict[str, Any]], T],
    *,
    newest_first: bool = False,
) -> Page[T]:
    """The page after `request.after` (an id), in id order; one row more tells if one follows."""
    if request.after is not None:
        last_id = int(request.after[-1])
        query = query.where(id_column < last_id if newest_first else id_column > last_id)
    rows = await query.order_by(id_column, ascending=not newest_first).limit(request.size + 1)
    positions: list[Position] = [(row[id_column._meta.name],) for row in rows[: request.size]]
    items = [convert(row) for row in rows[: request.size]]
    return Page(items=items, positions=positions, has_next=len(rows) > request.size)
