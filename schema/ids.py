"""Global ids (Relay): `base64("Type:row id")`, decoded where a filter takes one."""

from __future__ import annotations

from strawberry import relay

from app.errors import InvalidInput


def local_id(global_id: relay.GlobalID | None, type_name: str) -> int | None:
    """The row id inside a global id of the given type (None stays None)."""
    if global_id is None:
        return None
    if global_id.type_name != type_name or not global_id.node_id.isdigit():
        raise InvalidInput(f"{global_id} is not a {type_name} id")
    return int(global_id.node_id)
