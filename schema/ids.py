"""Global ids (Relay): `base64("Type:row id")`, decoded where a filter takes one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from strawberry import relay

from app.errors import InvalidInput
from db.row_ids import row_id

M = TypeVar("M")
T = TypeVar("T")


def local_id(global_id: relay.GlobalID | None, type_name: str) -> int | None:
    """The row id inside a global id of the given type (None stays None)."""
    if global_id is None:
        return None
    found = row_id(global_id.node_id)
    if global_id.type_name != type_name or found is None:
        raise InvalidInput(f"{global_id} is not a {type_name} id")
    return found


def global_id(type_name: str, row_id: int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(row_id))


async def nodes_by_id(
    node_ids: Iterable[str],
    load: Callable[[list[int]], Awaitable[Mapping[int, M]]],
    convert: Callable[[M], T],
) -> list[T | None]:
    """`resolve_nodes` of every node type: row ids in, a node or None (not found, or not the
    caller's) per id, in order."""
    ids = []
    for node_id in node_ids:
        found_id = row_id(node_id)
        if found_id is None:
            raise InvalidInput(f"{node_id!r} is not a valid id")
        ids.append(found_id)
    found = await load(ids)
    return [convert(found[i]) if i in found else None for i in ids]
