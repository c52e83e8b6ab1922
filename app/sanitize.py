"""Text from chargers, made storable: cut to a column's length, never refused."""

from __future__ import annotations

import re

# NUL (PostgreSQL stores none) and surrogates: a Python string holds one only unpaired (JSON's
# `\ud83d\ude00` decodes to one character), and no database can encode it as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """The text with what no database can store replaced by U+FFFD; valid text unchanged."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def clean_text(value: object, limit: int) -> str | None:
    """Optional text cut to `limit`; characters no database can store (lone surrogates, NUL)
    are replaced. Valid text is kept exactly as sent (signed meter data depends on it)."""
    if value in (None, ""):
        return None
    return storable(str(value)[:limit])
