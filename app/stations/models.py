"""Plain value objects of the stations domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.heartbeat import DEFAULT_HEARTBEAT_INTERVAL_S
from app.stations.connector_status import ConnectorStatus, normalise
from app.stations.grid import DEFAULT_GRID_PHASES, DEFAULT_MIN_CURRENT_A, LoadBalancing


@dataclass(frozen=True, slots=True)
class SiteView:
    id: int
    organization_id: int
    name: str
    address: str | None
    city: str | None
    postal_code: str | None
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    time_zone: str
    publish: bool = True  # partners may show it to their drivers
    opening_hours: dict[str, Any] | None = None  # OCPI Hours; None: always open
    energy_mix: dict[str, Any] | None = None  # OCPI EnergyMix, when known
    parking_restrictions: tuple[str, ...] = ()  # OCPI ParkingRestriction values; none: anyone
    parking_type: str | None = None  # OCPI ParkingType value; None: not recorded
    grid_capacity_a: int | None = None  # per phase; None: the site's draw is not limited here
    grid_phases: int = DEFAULT_GRID_PHASES
    min_current_a: Decimal = DEFAULT_MIN_CURRENT_A  # the least an EV is offered, or it pauses
    load_balancing: str = LoadBalancing.EQUAL.value
    changed_at: datetime | None = None  # when what partners see of the site itself changed

    @property
    def locatable(self) -> bool:
        """Complete enough for roaming partners (with a station there, which the repository's
        query of locatable sites also asks): an address, a city and coordinates."""
        return None not in (self.address, self.city, self.latitude, self.longitude)


@dataclass(frozen=True, slots=True)
class StationView:
    id: int
    organization_id: int
    site_id: int | None
    identity: str
    name: str | None
    protocol: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    registration_status: str
    status: str
    connected: bool
    last_seen_at: datetime | None
    security_profile: int = 0
    free_vend: bool = False
    assumed_protocol: str | None = None
    firmware_status: str | None = None
    diagnostics_status: str | None = None
    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL_S  # seconds

    @property
    def api_status(self) -> ConnectorStatus:
        """The station's own (EVSE 0) status, normalised: OFFLINE while not connected."""
        return normalise(self.status, connected=self.connected)


# The largest id a station can echo (OCPP integers are 32-bit): request ids wrap after it.
LARGEST_REQUEST_ID = 2**31 - 1

# Security profile 3: TLS, and the station's client certificate instead of a password.
CLIENT_CERTIFICATE_PROFILE = 3

# Outbox messages that tell a connected station something: its new heartbeat interval
# {organization_id, identity, seconds}; that it is approved, by asking it to boot again
# {organization_id, identity}.
SEND_HEARTBEAT_INTERVAL = "station.heartbeat_interval"
ASK_TO_BOOT = "station.ask_to_boot"
# The certificate signed for a station's request {organization_id, identity,
# certificate_chain, certificate_type}.
SEND_SIGNED_CERTIFICATE = "station.certificate_signed"
# The only certificate our CA signs: the station's TLS client certificate. ISO 15118 (V2G)
# certificates come from the V2G PKI.
STATION_CERTIFICATE = "ChargingStationCertificate"


@dataclass(frozen=True, slots=True)
class Disconnected:
    """A station recorded offline, and the node that held its connection (None: unknown)."""

    organization_id: int
    station_id: int
    identity: str
    node_id: str | None


@dataclass(frozen=True, slots=True)
class SigningRefusal:
    """Why a station's certificate signing request is refused: an OCPP reason code
    (`InvalidCSR`, `NotSupported`) and words for the station's log."""

    code: str
    reason: str


class RegistrationStatus(StrEnum):
    """What a station's BootNotification is answered: OCPP RegistrationStatus."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ReservationStatus(StrEnum):
    REQUESTED = "Requested"  # sent, not yet accepted
    ACTIVE = "Active"
    USED = "Used"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"


class FrameDirection(StrEnum):
    IN = "in"  # from the station
    OUT = "out"


class StationOrder(StrEnum):
    IDENTITY = "identity"
    NEWEST = "newest"
    OLDEST = "oldest"


class ConnectorStandard(StrEnum):
    """OCPI 2.2.1 ConnectorType: the plug or socket standard."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
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
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
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
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class ConnectorFormat(StrEnum):
    """OCPI ConnectorFormat: a socket to plug a cable into, or a cable attached."""

    SOCKET = "SOCKET"
    CABLE = "CABLE"


class PowerType(StrEnum):
    """OCPI PowerType."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


@dataclass(frozen=True, slots=True)
class StationFilter:
    """What a dashboard narrows a station list by; None: any."""

    site_id: int | None = None
    status: ConnectorStatus | None = None  # the API status: OFFLINE while not connected
    connected: bool | None = None
    registration_status: RegistrationStatus | None = None
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    search: str | None = None  # part of the identity or name, any case


@dataclass(frozen=True, slots=True)
class EvseView:
    id: int
    station_id: int
    evse_id: int  # number within the station
    evse_uid: str | None  # OCPI / eMI3 EVSE id
    max_power_w: int | None


@dataclass(frozen=True, slots=True)
class ConnectorView:
    id: int
    station_id: int
    evse_id: int
    connector_id: int
    standard: str
    format: str
    power_type: str
    max_voltage: int
    max_amperage: int
    max_power_w: int
    status: str
    error_code: str | None
    vendor_error_code: str | None = None
    status_updated_at: datetime | None = None
    station_connected: bool = True
    charging_state: str | None = None  # of its running session (2.0.1 chargingState)

    @property
    def api_status(self) -> ConnectorStatus:
        """The normalised status: OFFLINE while the station is not connected."""
        return normalise(
            self.status, connected=self.station_connected, charging_state=self.charging_state
        )

    @property
    def last_reported_status(self) -> ConnectorStatus:
        """The normalised status the station last reported, connected or not."""
        return normalise(self.status, charging_state=self.charging_state)


@dataclass(frozen=True, slots=True)
class StationRecord:
    """What the OCPP side needs to know about a station on every message."""

    id: int
    organization_id: int
    identity: str
    registration_status: str
    security_profile: int
    password_hash: str | None
    heartbeat_interval: int
    assumed_protocol: str | None
    free_vend: bool
    booted: bool  # has been accepted by a BootNotification before

    @property
    def ready_for_commands(self) -> bool:
        """Commands before an accepted boot upset some firmware; after one they are safe,
        also across reconnects (1.6 stations do not boot again on a plain reconnect)."""
        return self.booted and self.registration_status == "Accepted"


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """What a BootNotification is answered: the registration status, and the heartbeat
    interval as it is stored now (changed since the station connected, perhaps)."""

    status: str
    heartbeat_interval: int


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of a connection attempt: a station, or why it was refused."""

    station: StationRecord | None
    refused_reason: str | None = None
    retry_after_s: int | None = None  # refused for now: locked out after too many failures


@dataclass(frozen=True, slots=True)
class BootInfo:
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class StatusReport:
    evse_id: int  # 0: the station itself
    connector_id: int
    status: str
    error_code: str | None
    vendor_error_code: str | None
    info: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ConfigurationEntry:
    """A 1.6 configuration key (component '') or a 2.0.1 device-model variable attribute."""

    variable: str
    value: str | None
    component: str = ""
    component_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    variable_instance: str = ""
    attribute_type: str = "Actual"
    readonly: bool = False
    characteristics: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NetworkCounts:
    """Stations and connectors by status, for a dashboard."""

    stations: int
    stations_online: int
    stations_by_status: dict[str, int]
    connectors_by_status: dict[str, int]


@dataclass(frozen=True, slots=True)
class LoggedFrame:
    """A raw OCPP frame as it went over the wire."""

    id: int
    direction: str  # in | out
    message_type: int  # 2 call, 3 result, 4 error (0: not OCPP-J)
    message_id: str
    action: str | None
    frame: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationView:
    """An EVSE held for one id token until a time."""

    id: int
    station_id: int
    evse_id: int | None  # number within the station; None: any EVSE
    reservation_id: int  # the id the station knows it by
    id_tag: str
    expires_at: datetime
    status: str  # Active | Used | Cancelled | Expired
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationFilter:
    station_id: int | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class StationEvent:
    """A 2.0.1 NotifyEvent item: a variable's value when something happened."""

    entry: ConfigurationEntry  # which variable of which component, and its value
    trigger: str | None = None  # Alerting | Delta | Periodic
    cleared: bool = False  # the problem it reported is gone
    tech_code: str | None = None
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class PlugSnapshot:
    """What a connector of a departed EVSE was."""

    connector_id: int
    standard: str
    format: str
    power_type: str
    max_voltage: int
    max_amperage: int
    max_power_w: int


@dataclass(frozen=True, slots=True)
class DepartedEvseView:
    """An EVSE that was at a site and left it (its station moved away or was deleted)."""

    site_id: int
    evse_row: int  # the EVSE's row id, as it was known
    evse_uid: str | None  # its eMI3 id, when one was set
    connectors: tuple[PlugSnapshot, ...]
    departed_at: datetime


@dataclass(frozen=True, slots=True)
class SiteNetwork:
    """A site with everything charging there: what a roaming Location is made of."""

    site: SiteView
    stations: list[StationView]
    evses: list[EvseView]  # of those stations, by station and EVSE number
    connectors: list[ConnectorView]  # of those stations, by station, EVSE and number
    departed: list[DepartedEvseView] = field(default_factory=list)  # oldest first

    def connectors_of(self, evse: EvseView) -> list[ConnectorView]:
        """The connectors of one of these EVSEs."""
        return [
            each
            for each in self.connectors
            if each.station_id == evse.station_id and each.evse_id == evse.evse_id
        ]


@dataclass(frozen=True, slots=True)
class RecordedStatus:
    """One entry of the status history: a connector's status, or (no connector) a station's
    own status or connection."""

    id: int  # grows with every entry
    station_id: int
    connector_id: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class EvseState:
    """An EVSE as it is now, with what its status depends on."""

    site: SiteView
    station: StationView
    evse: EvseView
    connectors: list[ConnectorView]
