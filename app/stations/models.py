"""Plain value objects of the stations domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


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
