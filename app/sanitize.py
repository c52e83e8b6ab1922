"""Text from chargers, made storable: cut to a column's length, never refused."""

from __future__ import annotations


def clean_text(value: object, limit: int) -> str | None:
    """Optional text cut to `limit`; characters no database can store (lone surrogates, NUL)
    are replaced. Valid text is kept exactly as sent (signed meter data depends on it)."""
    if value in (None, ""):
        return None
    text = str(value)[:limit]
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
