"""Plain value objects of the stations domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


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


class StationOrder(StrEnum):
    IDENTITY = "identity"
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, slots=True)
class StationFilter:
    """What a dashboard narrows a station list by; None: any."""

    site_id: int | None = None
    status: str | None = None
    connected: bool | None = None
    registration_status: str | None = None
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    search: str | None = None  # part of the identity or name, any case


@dataclass(frozen=True, slots=True)
class ConnectorView:
    id: int
    station_id: int
    evse_id: int
    connector_id: int
    standard: str
    power_type: str
    max_power_w: int
    status: str
    error_code: str | None


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
class Admission:
    """The outcome of a connection attempt: a station, or why it was refused."""

    station: StationRecord | None
    refused_reason: str | None = None


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
