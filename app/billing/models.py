"""Value objects of the billing domain."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: integer minor units (cents) with its currency."""

    amount_minor: int
    currency: str
