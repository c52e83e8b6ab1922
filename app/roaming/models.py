"""Value objects of the roaming domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.auth.models import PartnerToken
from app.billing.models import CdrView, SettlementLine
from app.sessions.models import PartnerSession
from app.stations.models import SiteNetwork
from app.tariffs.models import Cost, TariffView


class PartnerRole(StrEnum):
    """OCPI 2.2.1 Role."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class HubPartyStatus(StrEnum):
    """How a party behind a hub stands (OCPI ConnectionStatus)."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class PartnerStatus(StrEnum):
    PENDING = "pending"  # registered; the credentials handshake has not happened yet
    CONNECTED = "connected"
    SUSPENDED = "suspended"


class EndpointRole(StrEnum):
    """OCPI InterfaceRole: what the partner is for a module."""

    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


@dataclass(frozen=True, slots=True)
class PartnerEndpoint:
    """One module a partner offers, from its version details."""

    identifier: str  # OCPI ModuleID: locations, tokens, ...
    role: str  # SENDER | RECEIVER (what the partner is for that module)
    url: str


@dataclass(frozen=True, slots=True)
class PartyRole:
    """A role a platform plays, with the party it plays it as (OCPI CredentialsRole)."""

    role: str
    country_code: str
    party_id: str
    name: str  # business name


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
    versions_url: str | None = None
    endpoints: list[PartnerEndpoint] = field(default_factory=list)
    registered_at: datetime | None = None
    last_push_at: datetime | None = None
    push_failing_since: datetime | None = None
    push_error: str | None = None
    last_pull_at: datetime | None = None
    station_local_lists: bool = False  # its whitelisted tokens go into stations' lists
    tokens_pulled_at: datetime | None = None  # when the last complete pull of its tokens began
    tokens_pull_error: str | None = None  # why the last pull failed, until one completes
    pending_deliveries: int = 0  # CDRs of its tokens not yet accepted by it
    failed_deliveries: int = 0  # CDRs it refused (or that OCPI cannot express): not resent


@dataclass(frozen=True, slots=True)
class IssuedPartner:
    """A partner just added, with the token A it registers with (shown only once)."""

    partner: PartnerView
    token_a: str


@dataclass(frozen=True, slots=True)
class PeerVersion:
    """What a partner's versions endpoint and version details say."""

    version: str
    endpoints: tuple[PartnerEndpoint, ...]

    def url_of(self, identifier: str) -> str | None:
        return next((each.url for each in self.endpoints if each.identifier == identifier), None)


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    """A platform's credentials: the token to call it with, its versions URL, its roles."""

    token: str
    url: str
    roles: tuple[PartyRole, ...]


@dataclass(frozen=True, slots=True)
class CallingPartner:
    """Who an incoming OCPI request comes from, as its token says."""

    partner_id: int
    organization_id: int
    registered: bool  # False: it called with the token A it registers with
    country_code: str
    party_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registration:
    """Our side of a handshake: the token the partner calls us with, and who we are."""

    token: str
    identity: PartyRole


@dataclass(frozen=True, slots=True)
class Locations:
    """Sites as a partner sees them: what they are made of, the tariff its drivers pay at
    each connector (code by connector id) and the operator they belong to."""

    operator: PartyRole
    sites: list[SiteNetwork]
    tariff_codes: dict[int, str]
    total: int  # of the whole selection, not only these


@dataclass(frozen=True, slots=True)
class PushTarget:
    """A partner that takes pushes (of locations, sessions, CDRs, tariffs): where, with which
    token, and how far it got."""

    partner_id: int
    organization_id: int
    locations_url: str | None  # its locations endpoint (OCPI receiver)
    token: str
    cursor: int | None  # the status history entry pushed through; None: not started
    cdrs_url: str | None = None  # its CDRs endpoint (OCPI receiver)
    sessions_url: str | None = None  # its sessions endpoint (OCPI receiver)
    tariffs_url: str | None = None  # its tariffs endpoint (OCPI receiver)
    # The tariffs it has from us: code -> the last_updated sent; None: not started.
    pushed_tariffs: dict[str, str] | None = None
    # The site change up to which whole Locations went out; None: not started.
    location_cursor: datetime | None = None
    country_code: str = ""  # the partner's party, for hub routing
    party_id: str = ""
    name: str = ""
    failing_since: datetime | None = None  # pushes fail since then
    registered_at: datetime | None = None  # a new registration starts afresh
    version: str | None = None  # the OCPI version agreed on: the form of what it is sent

    @property
    def connection(self) -> tuple[int, datetime | None]:
        """This partner's registration: what a node remembers of pushes is kept under it."""
        return self.partner_id, self.registered_at


@dataclass(frozen=True, slots=True)
class TokenSource:
    """A connected partner that lists its tokens (OCPI tokens sender): where, and since when
    its changes are to be asked for (None: all of them)."""

    target: PushTarget
    tokens_url: str
    roles: tuple[str, ...]
    pulled_at: datetime | None


@dataclass(frozen=True, slots=True)
class PulledToken:
    """A token a partner listed, with the party that issued it."""

    country_code: str
    party_id: str
    token: PartnerToken


@dataclass(frozen=True, slots=True)
class TokenPage:
    """One page of a partner's token list: the tokens read, and how many of its objects
    were not Tokens of the agreed version (left out)."""

    tokens: list[PulledToken]
    unreadable: int


@dataclass(frozen=True, slots=True)
class Tariffs:
    """A page of the tariffs a partner's drivers may pay, and whose they are."""

    operator: PartyRole
    tariffs: list[TariffView]
    total: int


@dataclass(frozen=True, slots=True)
class Cdrs:
    """A page of the CDRs of a partner's tokens, and whose they are."""

    operator: PartyRole
    cdrs: list[CdrView]
    total: int


@dataclass(frozen=True, slots=True)
class SessionReport:
    """A session of a partner's token as the partner is told about it: with its cost so far
    (running) or its final cost (billed); None while unknown (no tariff, not billed yet)."""

    session: PartnerSession
    cost: Cost | None


@dataclass(frozen=True, slots=True)
class Sessions:
    """A page of the sessions of a partner's tokens, and whose they are."""

    operator: PartyRole
    sessions: list[SessionReport]
    total: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a partner owes for the CDRs of its tokens issued in [period_from, period_to)."""

    partner: PartnerView
    period_from: datetime
    period_to: datetime
    lines: list[SettlementLine]  # one per currency


@dataclass(frozen=True, slots=True)
class HubPartyView:
    """A party a hub connects us with, and how it stands (OCPI ClientInfo)."""

    country_code: str
    party_id: str
    role: str
    status: str  # CONNECTED | OFFLINE | PLANNED | SUSPENDED
    last_updated: datetime
