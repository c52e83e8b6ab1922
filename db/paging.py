"""Keyset pages over a Piccolo select: shared by every repository that lists.

The sort key is one or more columns ending with the id, so each row has a unique position; a
cursor is that position. Rows after `after` and before `before` are kept; `last` reads the end
of that range (queried in reverse, then put back in list order)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from piccolo.columns import Column, Timestamp, Timestamptz, Varchar
from piccolo.columns.combination import Where
from piccolo.query import Select

from app.errors import InvalidInput
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
    """A page in id order (newest first: descending)."""
    return await page_by_key(query, (id_column,), request, convert, descending=newest_first)


async def page_by_key(
    query: Select,
    key: Sequence[Column],
    request: PageRequest,
    convert: Callable[[dict[str, Any]], T],
    *,
    descending: bool = False,
) -> Page[T]:
    """A page ordered by `key` (its last column the id); one row more tells if one follows."""
    count_query = query.table.count()
    count_query.where_delegate._where = query.where_delegate._where  # the filters, no keyset

    async def count() -> int:
        return int(await count_query)

    ascending = not descending
    if request.after is not None:
        query = query.where(_beyond(key, _values(key, request.after), ascending))
    if request.before is not None:
        query = query.where(_beyond(key, _values(key, request.before), not ascending))
    for column in key:
        query = query.order_by(column, ascending=ascending != request.backwards)
    rows = await query.limit(request.size + 1)
    more = len(rows) > request.size
    rows = rows[: request.size]
    if request.backwards:
        rows.reverse()
    positions: list[Position] = [_position(key, row) for row in rows]
    return Page(
        items=[convert(row) for row in rows],
        positions=positions,
        has_next=more if not request.backwards else request.before is not None,
        has_previous=more if request.backwards else request.after is not None,
        count=count,
    )


def _beyond(key: Sequence[Column], values: Sequence[Any], ascending: bool) -> Where:
    """Rows strictly past `values` in key order: (a > x) or (a = x and (b > y ...))."""
    column, value = key[0], values[0]
    past: Where = column > value if ascending else column < value
    if len(key) == 1:
        return past
    return past | ((column == value) & _beyond(key[1:], values[1:], ascending))


def _values(key: Sequence[Column], position: Position) -> list[Any]:
    """A cursor's position as column values; a cursor from another list is refused."""
    if len(position) != len(key):
        raise InvalidInput("the cursor belongs to another list or order")
    try:
        return [_value(column, value) for column, value in zip(key, position, strict=True)]
    except (TypeError, ValueError):
        raise InvalidInput("the cursor belongs to another list or order") from None


def _value(column: Column, value: str | int) -> Any:
    if isinstance(column, Timestamp | Timestamptz):
        return datetime.fromisoformat(str(value))
    if isinstance(column, Varchar):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _position(key: Sequence[Column], row: dict[str, Any]) -> Position:
    values = (row[column._meta.name] for column in key)
    return tuple(value.isoformat() if isinstance(value, datetime) else value for value in values)
