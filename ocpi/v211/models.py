"""OCPI 2.1.1 objects (with the 2.1.1-d2 errata), written once from the specification and used
both to build what we send to 2.1.1 partners and to read what they send (and by the tests).

What 2.1.1 puts on the wire differently from 2.2.1 (see `ocpi.v221.models`):

- `string(n)` is printable ASCII in 2.1.1 (2.2.1: UTF-8), so names, addresses, display texts
  and business names must be ASCII: `printable_ascii` makes a text fit. There is no CiString
  in 2.1.1 objects except `CDR.id`.
- Credentials carry `business_details`, `party_id` and `country_code` themselves (no `roles`);
  an `Endpoint` is `{identifier, url}` (no `role`); ModuleIDs: no chargingprofiles, no
  hubclientinfo.
- Location: no `country_code`, `party_id`, `publish`, `state`; `type` (LocationType) and
  `postal_code` are required, `time_zone` optional; `address` is at most 45 characters
  (2.2.1: 255); `id` 39 (2.2.1: 36); Facility is an enum of 16 values. GeoLocation has
  exactly 6 decimals (2.2.1: 5 to 7).
- EVSE: `uid` 39 characters (2.2.1: 36); `status_schedule` as in 2.2.1; fewer Capabilities.
- Connector: `voltage` and `amperage` (2.2.1: `max_voltage`, `max_amperage`), one optional
  `tariff_id` (2.2.1: a list `tariff_ids`), no `max_electric_power`; fewer ConnectorTypes and
  PowerTypes (no AC_2_PHASE*).
- Hours: `twentyfourseven` or `regular_hours` (a choice); times match `[0-2][0-9]:[0-5][0-9]`.
  EnvironmentalImpact names its category `source` (2.2.1: `category`).
- Tariff: no `country_code`, `party_id`, `type`, `min_price`, `max_price`, `start_date_time`,
  `end_date_time`; prices are excluding VAT only (PriceComponent has no `vat`); restrictions
  have no `min_current`, `max_current`, `reservation`.
- Token: `auth_id` (2.2.1: `contract_id`), no `country_code`, `party_id`, `group_id`,
  `default_profile_type`, `energy_contract`; TokenType is OTHER or RFID only.
- Session and CDR embed a whole Location and name the token by `auth_id`; Session times are
  `start_datetime`/`end_datetime`, a CDR's `start_date_time`/`stop_date_time`; costs are plain
  numbers excluding VAT (2.2.1: Price).
- Commands: a CommandResponse is only `{result}` (no timeout, no message), also as the
  asynchronous result; `reservation_id` is an int; no CANCEL_RESERVATION, no connector_id or
  authorization_reference in StartSession."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from ocpi.v221.models import (
    DATETIME_PATTERN,
    AllowedType,
    CommandRequest,
    ConnectorFormat,
    CountryCode,
    CredentialsToken,
    DateTime,
    DayOfWeek,
    EnergySource,
    EnergySourceCategory,
    Envelope,
    EnvironmentalImpactCategory,
    EvseStatus,
    ExceptionalPeriod,
    Image,
    ImageCategory,
    Number,
    OcpiModel,
    ParkingRestriction,
    PartyId,
    TariffDimensionType,
    Url,
    Version,
    WhitelistType,
    ci_string,
    ocpi_datetime,
    parsed_datetime,
)

__all__ = [
    "DATETIME_PATTERN",
    "VERSION",
    "AdditionalGeoLocation",
    "Allowed",
    "AllowedType",
    "AuthMethod",
    "AuthorizationInfo",
    "BusinessDetails",
    "Capability",
    "Cdr",
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
    "CommandRequest",
    "CommandResponse",
    "CommandResponseType",
    "CommandType",
    "Connector",
    "ConnectorFormat",
    "ConnectorType",
    "CountryCode",
    "Credentials",
    "CredentialsToken",
    "DateTime",
    "DayOfWeek",
    "DisplayText",
    "Endpoint",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "Envelope",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "Evse",
    "EvseStatus",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "Hours",
    "Image",
    "ImageCategory",
    "Location",
    "LocationReferences",
    "LocationType",
    "ModuleId",
    "Number",
    "OcpiModel",
    "ParkingRestriction",
    "PartyId",
    "PowerType",
    "PriceComponent",
    "RegularHours",
    "ReserveNow",
    "Session",
    "SessionStatus",
    "StartSession",
    "Status",
    "StatusSchedule",
    "StopSession",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "Token",
    "TokenType",
    "UnlockConnector",
    "Url",
    "Version",
    "VersionDetails",
    "WhitelistType",
    "ascii_string",
    "ocpi_datetime",
    "parsed_datetime",
    "printable_ascii",
]

VERSION = "2.1.1"

# 2.1.1 calls these Allowed and Status; the values are 2.2.1's AllowedType and EvseStatus.
Allowed = AllowedType
Status = EvseStatus


def ascii_string(length: int) -> object:
    """string(n) in 2.1.1: printable ASCII (2.2.1's is UTF-8), case-sensitive, at most n."""
    return ci_string(length)


# What NFKD does not take apart into an ASCII letter and accents.
_ASCII_FOR = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ð": "D",
        "ð": "d",
        "Þ": "Th",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": ",",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\t": " ",
        "\n": " ",
        "\r": " ",
    }
)


def printable_ascii(value: str, length: int) -> str:
    """A text as a 2.1.1 string(length): accents dropped (`Köln` -> `Koln`), what has no ASCII
    form as `?`, cut to `length`."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_ASCII_FOR))
    kept = "".join(
        char if " " <= char <= "~" else "?"
        for char in decomposed
        if not unicodedata.combining(char)
    )
    return kept[:length]


Id36 = Annotated[str, ascii_string(36)]
Id39 = Annotated[str, ascii_string(39)]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[\x20-\x7e]*$")]
Country = Annotated[  # ISO 3166-1 alpha-3
    str, StringConstraints(min_length=3, max_length=3, pattern=r"^[\x20-\x7e]*$")
]
Language = Annotated[str, StringConstraints(min_length=2, max_length=2, pattern=r"^[\x20-\x7e]*$")]
# Exactly six decimals in 2.1.1 (2.2.1 allows five to seven).
Latitude = Annotated[str, StringConstraints(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{6}$")]
Longitude = Annotated[str, StringConstraints(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{6}$")]
# 2.1.1's regex, which (unlike 2.2.1's) lets an end of day be written 24:00.
LocalTime = Annotated[str, StringConstraints(max_length=5, pattern=r"^[0-2][0-9]:[0-5][0-9]$")]
LocalDate = Annotated[
    str, StringConstraints(max_length=10, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
]


class ModuleId(StrEnum):
    CDRS = "cdrs"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class DisplayText(OcpiModel):
    language: Language
    text: Annotated[str, ascii_string(512)]


class BusinessDetails(OcpiModel):
    name: Annotated[str, ascii_string(100)]
    website: Url | None = None
    logo: Image | None = None


class Credentials(OcpiModel):
    token: CredentialsToken
    url: Url
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Endpoint(OcpiModel):
    # A peer may list modules of its own besides the spec's ModuleIDs (custom modules).
    identifier: Annotated[str, ascii_string(32)]
    url: Url


class VersionDetails(OcpiModel):
    version: Annotated[str, ascii_string(8)]
    endpoints: Annotated[list[Endpoint], Field(min_length=1, max_length=64)]


# --- Locations (mod_locations.md) ---


class LocationType(StrEnum):
    ON_STREET = "ON_STREET"
    PARKING_GARAGE = "PARKING_GARAGE"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class Facility(StrEnum):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorType(StrEnum):
    CHADEMO = "CHADEMO"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    IEC_60309_2_SINGLE_16 = "IEC_60309_2_single_16"
    IEC_60309_2_THREE_16 = "IEC_60309_2_three_16"
    IEC_60309_2_THREE_32 = "IEC_60309_2_three_32"
    IEC_60309_2_THREE_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class GeoLocation(OcpiModel):
    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiModel):
    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class RegularHours(OcpiModel):
    weekday: Annotated[StrictInt, Field(ge=1, le=7)]
    period_begin: LocalTime
    period_end: LocalTime


class Hours(OcpiModel):
    # A choice in 2.1.1: regular_hours, or twentyfourseven (the spec's example sends both, with
    # twentyfourseven false); send twentyfourseven always.
    regular_hours: list[RegularHours] = []
    twentyfourseven: StrictBool | None = None
    exceptional_openings: list[ExceptionalPeriod] = []
    exceptional_closings: list[ExceptionalPeriod] = []

    @model_validator(mode="after")
    def _regular_hours_unless_always_open(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours: only when twentyfourseven is not true")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours: at least one unless twentyfourseven is true")
        return self


class EnvironmentalImpact(OcpiModel):
    source: EnvironmentalImpactCategory  # 2.2.1 names it `category`
    amount: Annotated[Number, Field(ge=0)]


class EnergyMix(OcpiModel):
    is_green_energy: StrictBool
    energy_sources: list[EnergySource] = []
    environ_impact: list[EnvironmentalImpact] = []
    supplier_name: Annotated[str, ascii_string(64)] | None = None
    energy_product_name: Annotated[str, ascii_string(64)] | None = None


class StatusSchedule(OcpiModel):
    period_begin: DateTime
    period_end: DateTime | None = None
    status: EvseStatus


class Connector(OcpiModel):
    id: Id36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    voltage: Annotated[StrictInt, Field(ge=0)]  # line to neutral for AC_3_PHASE, V
    amperage: Annotated[StrictInt, Field(ge=0)]  # A
    tariff_id: Id36 | None = None
    terms_and_conditions: Url | None = None
    last_updated: DateTime


class Evse(OcpiModel):
    uid: Id39
    evse_id: Annotated[str, ascii_string(48)] | None = None
    status: EvseStatus
    status_schedule: list[StatusSchedule] = []
    capabilities: list[Capability] = []
    connectors: Annotated[list[Connector], Field(min_length=1)]
    floor_level: Annotated[str, ascii_string(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, ascii_string(16)] | None = None
    directions: list[DisplayText] = []
    parking_restrictions: list[ParkingRestriction] = []
    images: list[Image] = []
    last_updated: DateTime


class Location(OcpiModel):
    id: Id39
    type: LocationType
    name: Annotated[str, ascii_string(255)] | None = None
    address: Annotated[str, ascii_string(45)]
    city: Annotated[str, ascii_string(45)]
    postal_code: Annotated[str, ascii_string(10)]
    country: Country
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] = []
    evses: list[Evse] = []
    directions: list[DisplayText] = []
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] = []
    time_zone: Annotated[str, ascii_string(255)] | None = None
    opening_times: Hours | None = None
    charging_when_closed: StrictBool | None = None  # absent: true
    images: list[Image] = []
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# --- Tariffs (mod_tariffs.md) ---


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: Number  # per unit, excluding VAT
    step_size: Annotated[StrictInt, Field(ge=0)]


class TariffRestrictions(OcpiModel):
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None  # excluded
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] = []


class TariffElement(OcpiModel):
    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    id: Id36
    currency: Currency
    tariff_alt_text: list[DisplayText] = []
    tariff_alt_url: Url | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


# --- Tokens (mod_tokens.md): the CPO receives them ---


class TokenType(StrEnum):
    OTHER = "OTHER"
    RFID = "RFID"


class Token(OcpiModel):
    uid: Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[\x20-\x7e]*$")]
    type: TokenType
    auth_id: Id36
    visual_number: Annotated[str, ascii_string(64)] | None = None
    issuer: Annotated[str, ascii_string(64)]
    valid: StrictBool
    whitelist: WhitelistType
    language: Language | None = None
    last_updated: DateTime


class LocationReferences(OcpiModel):
    location_id: Id39
    evse_uids: list[Id39] = []
    connector_ids: list[Id36] = []


class AuthorizationInfo(OcpiModel):
    allowed: AllowedType
    location: LocationReferences | None = None
    info: DisplayText | None = None


# --- Sessions (mod_sessions.md) and CDRs (mod_cdrs.md): the CPO sends them ---


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]


class Session(OcpiModel):
    id: Id36
    start_datetime: DateTime
    end_datetime: DateTime | None = None
    kwh: Number
    auth_id: Id36
    auth_method: AuthMethod
    location: Location  # with only the EVSE and connector used
    meter_id: Annotated[str, ascii_string(255)] | None = None
    currency: Currency
    charging_periods: list[ChargingPeriod] = []
    total_cost: Number | None = None  # excluding VAT; absent: no price given
    status: SessionStatus
    last_updated: DateTime


class Cdr(OcpiModel):
    id: Annotated[str, ci_string(36)]
    start_date_time: DateTime
    stop_date_time: DateTime
    auth_id: Id36
    auth_method: AuthMethod
    location: Location  # with only the EVSE and connector used
    meter_id: Annotated[str, ascii_string(255)] | None = None
    currency: Currency
    tariffs: list[Tariff] = []
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    total_cost: Number  # excluding VAT
    total_energy: Number  # kWh
    total_time: Number  # hours
    total_parking_time: Number | None = None  # hours
    remark: Annotated[str, ascii_string(255)] | None = None
    last_updated: DateTime


# --- Commands (mod_commands.md): the CPO receives them ---


class CommandType(StrEnum):
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResponse(OcpiModel):
    """Both the CPO's answer to a command and the result it posts to `response_url`."""

    result: CommandResponseType


class StartSession(CommandRequest):
    token: Token
    location_id: Id39
    evse_uid: Id39 | None = None


class StopSession(CommandRequest):
    session_id: Id36


class ReserveNow(CommandRequest):
    token: Token
    expiry_date: DateTime
    reservation_id: StrictInt
    location_id: Id39
    evse_uid: Id39 | None = None


class UnlockConnector(CommandRequest):
    location_id: Id39
    evse_uid: Id39
    connector_id: Id36
