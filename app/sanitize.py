"""Text that a database can store: chargers' text is cut and mended, never refused; what a
person or a program sends through the API is refused instead (`holds_unstorable`)."""

from __future__ import annotations

import re

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


def storable(text: str) -> str:
    """The text with what no database can store replaced by U+FFFD; valid text unchanged."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def clean_text(value: object, limit: int) -> str | None:
    """Optional text cut to `limit`; characters no database can store (lone surrogates, NUL)
    are replaced. Valid text is kept exactly as sent (signed meter data depends on it)."""
    if value in (None, ""):
        return None
    return storable(str(value)[:limit])
