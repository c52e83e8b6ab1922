"""Value objects of the auth domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Token statuses, as OCPP 2.0.1 names them (1.6 maps Unknown to Invalid).
ACCEPTED = "Accepted"
BLOCKED = "Blocked"
EXPIRED = "Expired"
INVALID = "Invalid"
UNKNOWN = "Unknown"

# The id token type of a plain RFID card.
RFID = "ISO14443"


@dataclass(frozen=True, slots=True)
class TokenVerdict:
    """Whether an id token may charge, and what a station should know about it."""

    status: str
    token_id: int | None = None
    user_id: int | None = None
    group_id: str | None = None
    expires_at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED
