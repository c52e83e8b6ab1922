"""OCPI 2.2.1 objects, written once from the specification and used both to build what we
send and to read what partners send (and by the tests, to check every object we send).

Field types follow the spec's: `CiString(n)` and `string(n)` are length-bounded, a `URL` is
at most 255 characters, a `DateTime` is RFC 3339 in UTC. Unknown fields a partner sends are
ignored (a newer peer may add some); missing or mistyped required ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

VERSION = "2.2.1"


def ci_string(length: int) -> object:
    """CiString(n): printable ASCII, case-insensitive, at most n characters."""
    return StringConstraints(max_length=length, pattern=r"^[\x20-\x7e]*$")


def text(length: int) -> object:
    """string(n): printable UTF-8, at most n characters."""
    return StringConstraints(max_length=length)


CountryCode = Annotated[
    str, StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
]
PartyId = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Za-z0-9]{3}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# Credentials tokens: printable ASCII without spaces (U+0021 to U+007E), at most 64.
CredentialsToken = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
]


def ocpi_datetime(moment: datetime) -> str:
    """DateTime as OCPI writes it: UTC with a `Z` (`+00:00` is not allowed)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class OcpiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ModuleId(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class Image(OcpiModel):
    url: Url
    thumbnail: Url | None = None
    category: ImageCategory
    type: Annotated[str, ci_string(4)]
    width: Annotated[int, Field(ge=0, le=99_999)] | None = None
    height: Annotated[int, Field(ge=0, le=99_999)] | None = None


class BusinessDetails(OcpiModel):
    name: Annotated[str, text(100)]
    website: Url | None = None
    logo: Image | None = None


class CredentialsRole(OcpiModel):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(OcpiModel):
    token: CredentialsToken
    url: Url
    roles: Annotated[list[CredentialsRole], Field(min_length=1)]


class Version(OcpiModel):
    # VersionNumber is an enum in the spec; a peer's list may name versions after 2.2.1.
    version: Annotated[str, ci_string(8)]
    url: Url


class Endpoint(OcpiModel):
    # A peer may list modules of its own besides the spec's ModuleIDs.
    identifier: Annotated[str, ci_string(32)]
    role: InterfaceRole
    url: Url


class VersionDetails(OcpiModel):
    version: Annotated[str, ci_string(8)]
    endpoints: Annotated[list[Endpoint], Field(min_length=1, max_length=64)]


class Envelope(OcpiModel):
    """Every OCPI response."""

    data: object | None = None
    status_code: Annotated[int, Field(ge=1000, le=4999)]
    status_message: str | None = None
    timestamp: str
