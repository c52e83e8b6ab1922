"""Text that a database can store: chargers' text is cut and mended, never refused; what a
person or a program sends through the API is refused instead (`holds_unstorable`)."""

from __future__ import annotations

import re
from typing import Any

# NUL (PostgreSQL stores none) and surrogates: a Python string holds one only unpaired (JSON's
# `\ud83d\ude00` decodes to one character), and no database can encode it as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The JSON (or GraphQL) escape of one, the only way either reaches a string of a text message
# (raw control characters are not JSON, and a text frame is valid UTF-8). A valid surrogate pair
# matches too: where it does, the decoded text is looked at.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
REPLACEMENT = "\ufffd"


def may_hold_unstorable(encoded: str) -> bool:
    """Whether JSON or GraphQL text may decode to NUL or a lone surrogate (checked cheaply on
    the raw text, before anything is decoded)."""
    return _ESCAPED_UNSTORABLE.search(encoded) is not None


def holds_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def json_holds_unstorable(value: Any) -> bool:
    """Whether any string (key or value) of decoded JSON holds what no database stores. Walked
    without recursion: the value may nest as deeply as the JSON decoder allows."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if holds_unstorable(current):
                return True
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return False


def storable(text: str) -> str:
    """The text with what no database can store replaced by U+FFFD; valid text unchanged."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """Decoded JSON with every string (keys included) made `storable`. Recursive: only for
    values whose depth is bounded already (an OCPP frame that passed the framing check)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable_json(item) for key, item in value.items()}
    return value


def clean_text(value: object, limit: int) -> str | None:
    """Optional text cut to `limit`; characters no database can store (lone surrogates, NUL)
    are replaced. Valid text is kept exactly as sent (signed meter data depends on it)."""
    if value in (None, ""):
        return None
    return storable(str(value)[:limit])
