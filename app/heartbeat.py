"""How often a station sends a heartbeat: the bounds of the setting, which organizations (their
default for new stations) and stations (their own) share."""

from __future__ import annotations

from app.errors import InvalidInput

# Below 10 s a station's heartbeats alone would be a load; above a day, a dead station would
# be taken for online for two days (it is offline after twice its interval plus a minute).
MIN_HEARTBEAT_INTERVAL_S = 10
MAX_HEARTBEAT_INTERVAL_S = 86_400
DEFAULT_HEARTBEAT_INTERVAL_S = 300


def checked_interval(seconds: int, field: str = "heartbeatIntervalS") -> int:
    """A heartbeat interval within bounds, or InvalidInput naming `field`."""
    if not MIN_HEARTBEAT_INTERVAL_S <= seconds <= MAX_HEARTBEAT_INTERVAL_S:
        raise InvalidInput(
            f"{field}: {MIN_HEARTBEAT_INTERVAL_S} to {MAX_HEARTBEAT_INTERVAL_S} seconds"
        )
    return seconds
