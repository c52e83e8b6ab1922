"""Value objects of the roaming domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PartnerRole(StrEnum):
    """OCPI 2.2.1 Role."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class PartnerStatus(StrEnum):
    PENDING = "pending"  # registered; the credentials handshake has not happened yet
    CONNECTED = "connected"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class PartnerView:
    """A roaming partner (an eMSP or a hub); its credentials tokens never leave the domain."""

    id: int
    name: str
    country_code: str
    party_id: str
    roles: list[str]  # OCPI roles: EMSP, HUB, ...
    version: str | None  # the OCPI version agreed on
    status: str  # pending | connected | suspended
    created_at: datetime
