"""OCPI 2.2.1 objects, written once from the specification and used both to build what we
send and to read what partners send (and by the tests, to check every object we send).

Field types follow the spec's: `CiString(n)` and `string(n)` are length-bounded, a `URL` is
at most 255 characters, a `DateTime` is RFC 3339 in UTC. Unknown fields a partner sends are
ignored (a newer peer may add some); missing or mistyped required ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from app.auth.models import Whitelist
from app.roaming.models import EndpointRole, PartnerRole
from app.stations.models import ConnectorFormat, ConnectorStandard, PowerType
from app.stations.site_details import EnergySourceCategory as SiteEnergySource
from app.stations.site_details import ParkingRestriction, ParkingType
from app.tariffs.models import DayOfWeek, Dimension, ReservationRestriction
from app.tariffs.models import TariffType as DomainTariffType

# Enumerations the domain keeps in OCPI's own values are the domain's, under OCPI's names.
Role = PartnerRole
InterfaceRole = EndpointRole
ConnectorType = ConnectorStandard
EnergySourceCategory = SiteEnergySource
TariffDimensionType = Dimension
TariffType = DomainTariffType
ReservationRestrictionType = ReservationRestriction
WhitelistType = Whitelist

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


# RFC 3339 in UTC; the `Z` may be left out (OCPI reads a DateTime without one as UTC).
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?$"


def ocpi_datetime(moment: datetime) -> str:
    """DateTime as OCPI writes it: UTC with a `Z` (`+00:00` is not allowed)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parsed_datetime(text: str) -> datetime:
    """A DateTime as OCPI writes it (UTC, with or without the `Z`), as an aware datetime."""
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


class OcpiModel(BaseModel):
    # Booleans and integers are strict: "yes" is no boolean and "12" no number in OCPI.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


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
    width: Annotated[StrictInt, Field(ge=0, le=99_999)] | None = None
    height: Annotated[StrictInt, Field(ge=0, le=99_999)] | None = None


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
    status_code: Annotated[StrictInt, Field(ge=1000, le=4999)]
    status_message: str | None = None
    timestamp: str


# --- Locations (mod_locations.asciidoc) ---


class EvseStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class EnvironmentalImpactCategory(StrEnum):
    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


DateTime = Annotated[str, StringConstraints(max_length=25, pattern=DATETIME_PATTERN)]
Latitude = Annotated[str, StringConstraints(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, StringConstraints(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]


class DisplayText(OcpiModel):
    language: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    text: Annotated[str, text(512)]


class GeoLocation(OcpiModel):
    latitude: Latitude
    longitude: Longitude


class RegularHours(OcpiModel):
    weekday: Annotated[StrictInt, Field(ge=1, le=7)]
    period_begin: LocalTime
    period_end: LocalTime


class ExceptionalPeriod(OcpiModel):
    period_begin: DateTime
    period_end: DateTime


class Hours(OcpiModel):
    twentyfourseven: StrictBool
    regular_hours: list[RegularHours] = []
    exceptional_openings: list[ExceptionalPeriod] = []
    exceptional_closings: list[ExceptionalPeriod] = []

    @model_validator(mode="after")
    def _regular_hours_unless_always_open(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours: only when twentyfourseven is false")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours: at least one when twentyfourseven is false")
        return self


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: Annotated[float, Field(ge=0, le=100)]


class EnvironmentalImpact(OcpiModel):
    category: EnvironmentalImpactCategory
    amount: Annotated[float, Field(ge=0)]


class EnergyMix(OcpiModel):
    is_green_energy: StrictBool
    energy_sources: list[EnergySource] = []
    environ_impact: list[EnvironmentalImpact] = []
    supplier_name: Annotated[str, text(64)] | None = None
    energy_product_name: Annotated[str, text(64)] | None = None


class Connector(OcpiModel):
    id: Annotated[str, ci_string(36)]
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: Annotated[StrictInt, Field(ge=0)]
    max_amperage: Annotated[StrictInt, Field(ge=0)]
    max_electric_power: Annotated[StrictInt, Field(ge=0)] | None = None
    tariff_ids: list[Annotated[str, ci_string(36)]] = []
    terms_and_conditions: Url | None = None
    last_updated: DateTime


class Evse(OcpiModel):
    uid: Annotated[str, ci_string(36)]
    evse_id: Annotated[str, ci_string(48)] | None = None
    status: EvseStatus
    capabilities: list[Capability] = []
    connectors: Annotated[list[Connector], Field(min_length=1)]
    floor_level: Annotated[str, text(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, text(16)] | None = None
    directions: list[DisplayText] = []
    parking_restrictions: list[ParkingRestriction] = []
    images: list[Image] = []
    last_updated: DateTime


class Location(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, ci_string(36)]
    publish: StrictBool
    name: Annotated[str, text(255)] | None = None
    address: Annotated[str, text(255)]
    city: Annotated[str, text(45)]
    postal_code: Annotated[str, text(10)] | None = None
    state: Annotated[str, text(45)] | None = None
    country: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    coordinates: GeoLocation
    parking_type: ParkingType | None = None
    evses: list[Evse] = []
    directions: list[DisplayText] = []
    operator: BusinessDetails | None = None
    facilities: list[str] = []
    time_zone: Annotated[str, text(255)]
    opening_times: Hours | None = None
    charging_when_closed: StrictBool | None = None
    images: list[Image] = []
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# --- Tokens (mod_tokens.asciidoc): the CPO receives them ---


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class EnergyContract(OcpiModel):
    supplier_name: Annotated[str, text(64)]
    contract_id: Annotated[str, text(64)] | None = None


class Token(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[\x20-\x7e]*$")]
    type: TokenType
    contract_id: Annotated[str, ci_string(36)]
    visual_number: Annotated[str, text(64)] | None = None
    issuer: Annotated[str, text(64)]
    group_id: Annotated[str, ci_string(36)] | None = None
    valid: StrictBool
    whitelist: WhitelistType
    language: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


# --- Tariffs (mod_tariffs.asciidoc) ---


Number = Annotated[float, Field(strict=True)]


class Price(OcpiModel):
    excl_vat: Number
    incl_vat: Number | None = None


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: Number
    vat: Number | None = None
    step_size: Annotated[StrictInt, Field(ge=0)]


class TariffRestrictions(OcpiModel):
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    start_date: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None
    ) = None
    end_date: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None = (
        None
    )
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] = []
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, ci_string(36)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = []
    tariff_alt_url: Url | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# --- Commands (mod_commands.asciidoc): the CPO receives them ---


class CommandType(StrEnum):
    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


Id36 = Annotated[str, ci_string(36)]


class CommandRequest(OcpiModel):
    """What every command carries: where its result goes."""

    response_url: Url


class StartSession(CommandRequest):
    token: Token
    location_id: Id36
    evse_uid: Id36 | None = None
    connector_id: Id36 | None = None
    authorization_reference: Id36 | None = None


class StopSession(CommandRequest):
    session_id: Id36


class ReserveNow(CommandRequest):
    token: Token
    expiry_date: DateTime
    reservation_id: Id36
    location_id: Id36
    evse_uid: Id36 | None = None
    authorization_reference: Id36 | None = None


class CancelReservation(CommandRequest):
    reservation_id: Id36


class UnlockConnector(CommandRequest):
    location_id: Id36
    evse_uid: Id36
    connector_id: Id36


class CommandResponse(OcpiModel):
    result: CommandResponseType
    timeout: Annotated[StrictInt, Field(ge=0)]
    message: list[DisplayText] = []


class CommandResult(OcpiModel):
    result: CommandResultType
    message: list[DisplayText] = []


# --- CDRs (mod_cdrs.asciidoc): the CPO sends them ---


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrToken(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[\x20-\x7e]*$")]
    type: TokenType
    contract_id: Annotated[str, ci_string(36)]


class CdrLocation(OcpiModel):
    id: Id36
    name: Annotated[str, text(255)] | None = None
    address: Annotated[str, text(45)]  # the errata widened Location's, not this one
    city: Annotated[str, text(45)]
    postal_code: Annotated[str, text(10)] | None = None
    state: Annotated[str, text(20)] | None = None
    country: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    coordinates: GeoLocation
    evse_uid: Id36
    evse_id: Annotated[str, ci_string(48)]
    connector_id: Id36
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class CdrDimension(OcpiModel):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: Id36 | None = None


class SignedValue(OcpiModel):
    nature: Annotated[str, ci_string(32)]
    plain_data: Annotated[str, text(5000)]  # errata: was 512
    signed_data: Annotated[str, text(5000)]


class SignedData(OcpiModel):
    encoding_method: Annotated[str, ci_string(36)]
    encoding_method_version: StrictInt | None = None
    public_key: Annotated[str, text(512)] | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: Annotated[str, text(512)] | None = None


class Cdr(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, ci_string(39)]
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: Id36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: Id36 | None = None
    cdr_location: CdrLocation
    meter_id: Annotated[str, text(255)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    tariffs: list[Tariff] = []
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: Annotated[str, text(255)] | None = None
    invoice_reference_id: Annotated[str, ci_string(39)] | None = None
    credit: StrictBool | None = None
    credit_reference_id: Annotated[str, ci_string(39)] | None = None
    home_charging_compensation: StrictBool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_names_what_it_credits(self) -> Cdr:
        if self.credit and not self.credit_reference_id:
            raise ValueError("credit_reference_id: required for a credit CDR")
        return self


# --- Sessions (mod_sessions.asciidoc): the CPO sends them ---


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class Session(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Id36
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: Id36 | None = None
    location_id: Id36
    evse_uid: Id36
    connector_id: Id36
    meter_id: Annotated[str, text(255)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    charging_periods: list[ChargingPeriod] = []
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime


class ChargingPreferences(OcpiModel):
    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = None
    discharge_allowed: StrictBool | None = None


class ChargingPreferencesResponse(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


# --- Real-time authorization (mod_tokens.asciidoc): the CPO asks the eMSP ---


class AllowedType(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class LocationReferences(OcpiModel):
    location_id: Id36
    evse_uids: list[Id36] = []


class AuthorizationInfo(OcpiModel):
    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: Id36 | None = None
    info: DisplayText | None = None


# --- Hub client info (mod_hub_client_info.asciidoc): what a hub tells about its parties ---


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(OcpiModel):
    party_id: PartyId
    country_code: CountryCode
    role: Role
    status: ConnectionStatus
    last_updated: DateTime


# --- Charging profiles (mod_charging_profiles.asciidoc): a partner limits its session ---


class ChargingRateUnit(StrEnum):
    W = "W"
    A = "A"


class ChargingProfilePeriod(OcpiModel):
    start_period: Annotated[StrictInt, Field(ge=0)]  # seconds from the profile's start
    limit: Annotated[Number, Field(ge=0)]  # per phase for A


class ChargingProfile(OcpiModel):
    start_date_time: DateTime | None = None  # absent: from the session's start
    duration: Annotated[StrictInt, Field(gt=0)] | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Annotated[Number, Field(ge=0)] | None = None
    charging_profile_period: list[ChargingProfilePeriod] = []


class SetChargingProfile(OcpiModel):
    charging_profile: ChargingProfile
    response_url: Url


class ChargingProfileResponseType(StrEnum):
    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ChargingProfileResponse(OcpiModel):
    result: ChargingProfileResponseType
    timeout: Annotated[StrictInt, Field(ge=0)]


class ChargingProfileResult(OcpiModel):
    """The outcome of a PUT (a new profile) and, as ClearProfileResult, of a DELETE."""

    result: ChargingProfileResultType


ClearProfileResult = ChargingProfileResult


class ActiveChargingProfile(OcpiModel):
    start_date_time: DateTime
    charging_profile: ChargingProfile


class ActiveChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None
