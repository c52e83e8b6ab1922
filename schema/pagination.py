"""Relay connections over keyset pages: the cursor is the position of an item, opaque to
clients (base64 of JSON)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry import relay

from app.errors import InvalidInput
from app.pagination import Page, PageRequest, Position

V = TypeVar("V")


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


def page_request(first: int, after: str | None) -> PageRequest:
    if first < 0:
        raise InvalidInput("first must not be negative")
    return PageRequest(first=first, after=decode_cursor(after) if after else None)


def connection(page: Page[V], convert: Callable[[V], Any]) -> relay.Connection[Any]:
    edges = [
        relay.Edge(cursor=encode_cursor(position), node=convert(item))
        for item, position in zip(page.items, page.positions, strict=True)
    ]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=False,  # forward paging only (first/after)
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
