# mypy: disable-error-code="type-var"
# (relay.Connection wants Node items; message-log frames and other plain items are not Nodes.)
"""Relay connections over keyset pages: the cursor is the position of an item, opaque to
clients (base64 of JSON). Every list in the API is one of these, with the same four arguments
(`first`/`after` forwards, `last`/`before` backwards) and a `totalCount`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from app.errors import InvalidInput
from app.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest, Position

V = TypeVar("V")
NodeType = TypeVar("NodeType")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"The first items after `after` (default {DEFAULT_PAGE_SIZE}, "
        f"at most {MAX_PAGE_SIZE}; larger values are capped)."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"The last items before `before` (at most {MAX_PAGE_SIZE}); not with `first`."
    ),
]
After = Annotated[str | None, strawberry.argument(description="A cursor: items after this one.")]
Before = Annotated[str | None, strawberry.argument(description="A cursor: items before this one.")]


@strawberry.type(description="A page of a list, with the size of the whole list.")
class Connection(relay.Connection[NodeType]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items the whole list holds, filters applied (not just this page)."
    )
    async def total_count(self) -> int:
        return await self.count()


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_cursor(cursor: str) -> Position:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(f"invalid cursor {cursor!r}") from None
    if not isinstance(values, list) or not values or not isinstance(values[-1], int):
        raise InvalidInput(f"invalid cursor {cursor!r}")
    return tuple(values)


def page_request(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    if first is not None and last is not None:
        raise InvalidInput("give first or last, not both")
    if (first or 0) < 0 or (last or 0) < 0:
        raise InvalidInput("first and last must not be negative")
    return PageRequest(
        first=DEFAULT_PAGE_SIZE if first is None else first,
        after=decode_cursor(after) if after else None,
        last=last,
        before=decode_cursor(before) if before else None,
    )


def connection(page: Page[V], convert: Callable[[V], Any]) -> Connection[Any]:
    edges = [
        relay.Edge(cursor=encode_cursor(position), node=convert(item))
        for item, position in zip(page.items, page.positions, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=page.count,
    )
