"""Tolerant timestamps: chargers send them without zone, without fraction, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A charger clock further than this ahead of ours is not believed.
MAX_CLOCK_AHEAD = timedelta(days=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(value: object, *, default: datetime | None = None) -> datetime:
    """An aware UTC datetime from ISO 8601; a missing zone is UTC; garbage or a clock far in
    the future gives `default` (now)."""
    fallback = default or utcnow()
    if not isinstance(value, str) or not value:
        return fallback
    text = value.strip().replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed - utcnow() > MAX_CLOCK_AHEAD:
        return fallback
    return parsed
