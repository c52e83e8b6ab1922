"""Row ids as outsiders write them (a GraphQL global id's node part, an OCPI object id)."""

from __future__ import annotations

# Row ids are PostgreSQL `integer`s: a larger number names no row, and would not fit the query.
MAX_ROW_ID = 2**31 - 1


def row_id(text: str) -> int | None:
    """The row id `text` names, None unless it is one (ASCII digits, in range)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ROW_ID else None
