"""Value objects of the auth domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from app.heartbeat import DEFAULT_HEARTBEAT_INTERVAL_S

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
    partner_id: int | None = None  # the roaming partner that issued the token
    whitelist: str | None = None  # a partner's token: when it may be used without asking
    preauthorized: bool = False  # its issuer authorized it for a session starting now

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


class Role(StrEnum):
    """What a user or API key may do within its organization."""

    ADMIN = "admin"  # everything, including users, keys and settings
    OPERATOR = "operator"  # run the network: commands, stations, tokens
    VIEWER = "viewer"  # read the network
    DRIVER = "driver"  # only their own sessions, tokens and payments


class UnknownStationPolicy(StrEnum):
    """What happens when a station nobody registered connects."""

    REJECT = "reject"  # refused at the websocket handshake
    PENDING = "pending"  # registered as Pending, waiting for an operator's approval
    AUTO_REGISTER = "auto_register"  # registered and Accepted


@dataclass(frozen=True, slots=True)
class OrganizationView:
    """A charge point operator: the tenant every row belongs to."""

    id: int
    name: str
    slug: str
    unknown_station_policy: UnknownStationPolicy
    default_currency: str
    created_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)  # alerts, healing (see service)
    country_code: str | None = None
    party_id: str | None = None
    suspended_at: datetime | None = None
    heartbeat_interval_s: int = DEFAULT_HEARTBEAT_INTERVAL_S  # new stations get this one

    @property
    def alert_webhook_url(self) -> str | None:
        url = (self.settings.get("alerts") or {}).get("webhook_url")
        return str(url) if url else None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: always of one organization, never of another. A platform key calls
    from above every organization (NO_ORGANIZATION) or, when it says so, on behalf of one."""

    organization_id: int
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None
    platform_key_id: int | None = None

    @property
    def is_platform(self) -> bool:
        """A platform key not acting for any organization: it sees inside none."""
        return self.platform_key_id is not None and self.organization_id == NO_ORGANIZATION


# No organization has this id: a platform principal's queries of organization data find nothing.
NO_ORGANIZATION = 0


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    organization_id: int
    email: str
    name: str | None
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: int
    organization_id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A secret shown once (an API key or a login token) and what it identifies."""

    secret: str
    principal: Principal
    expires_at: datetime | None = None
    api_key: ApiKeyView | None = None


@dataclass(frozen=True, slots=True)
class IdTokenView:
    id: int
    organization_id: int
    uid: str
    type: str
    status: str
    expires_at: datetime | None
    group_id: str | None
    user_id: int | None
    visual_number: str | None
    created_at: datetime


class IdTokenType(StrEnum):
    """OCPP 2.0.1 IdTokenEnumType (1.6 has only the id tag)."""

    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class IdTokenStatus(StrEnum):
    """What a token is registered as; a station is told the same (OCPP AuthorizationStatus)."""

    ACCEPTED = ACCEPTED
    BLOCKED = BLOCKED
    EXPIRED = EXPIRED
    INVALID = INVALID


ID_TOKEN_TYPES = tuple(IdTokenType)
ID_TOKEN_STATUSES = tuple(IdTokenStatus)


class Whitelist(StrEnum):
    """When a roaming partner's token may be used without asking the partner (OCPI
    WhitelistType)."""

    ALWAYS = "ALWAYS"  # always from what the partner sent
    ALLOWED = "ALLOWED"  # from what it sent; asking is allowed
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"  # ask; what it sent only when asking is not possible
    NEVER = "NEVER"  # always ask


@dataclass(frozen=True, slots=True)
class PartnerToken:
    """An id token a roaming partner issued and told us about."""

    partner_id: int
    uid: str
    type: str  # as stations report it (IdTokenType)
    valid: bool
    whitelist: Whitelist
    contract_id: str | None
    visual_number: str | None
    group_id: str | None
    issued_as: dict[str, Any]  # the token as the partner sent it, to give it back as it is
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class KeptTokens:
    """What became of a batch of a partner's tokens."""

    changed: int  # new, or newer than what we had
    unchanged: int  # what we had already (or newer)
    conflicting: int  # the uid and type are another issuer's token here: left alone


class PreauthorizedAs(StrEnum):
    """How a roaming partner authorized its token for a session (OCPI AuthMethod)."""

    COMMAND = "COMMAND"  # it started the session (StartSession)
    AUTH_REQUEST = "AUTH_REQUEST"  # it answered our real-time authorization


@dataclass(frozen=True, slots=True)
class Preauthorization:
    """A partner has authorized its token: stations are told it is accepted until then."""

    until: datetime
    kind: PreauthorizedAs
    reference: str | None = None  # the partner's authorization_reference, for the session


class IssuerAllowed(StrEnum):
    """A token's issuer's answer to a real-time authorization (OCPI AllowedType)."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


@dataclass(frozen=True, slots=True)
class IssuerVerdict:
    allowed: IssuerAllowed
    reference: str | None = None  # the issuer's authorization_reference


class TokenIssuers(Protocol):
    """The port through which a token's issuer (a roaming partner) is asked, in real time,
    whether it may charge at a station; the roaming domain implements it."""

    async def authorize(
        self, organization_id: int, partner_id: int, token: dict[str, Any], station_id: int
    ) -> IssuerVerdict | None:
        """The issuer's answer for its token (as it sent it) at this station; None when it
        could not be asked (no endpoint, down, too slow)."""
        ...
