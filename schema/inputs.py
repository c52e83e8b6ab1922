"""Partial-update inputs: a field a client left out is UNSET, one it cleared is None."""

from __future__ import annotations

from typing import Any

from strawberry.types.unset import UNSET


def given(value: object) -> dict[str, Any]:
    """The fields of an input a client actually sent (absent ones stay unchanged)."""
    return {name: field for name, field in vars(value).items() if field is not UNSET}
