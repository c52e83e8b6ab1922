"""Use cases that manage the network from the API: sites, stations and their credentials.

Admins manage; operators approve stations that connected as Pending. Everything stays inside
the caller's organization: another organization's site or station is simply not found."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from typing import Any

from app import outbox
from app.auth.access import Permission, require
from app.auth.models import Principal
from app.auth.passwords import hash_station_password
from app.errors import AlreadyExists, InvalidInput, NotFound
from app.events import ConnectorRemoved, StationApproved
from app.heartbeat import checked_interval
from app.stations import repository
from app.stations.grid import GRID_FIELDS, checked_grid_connection
from app.stations.models import (
    ASK_TO_BOOT,
    CLIENT_CERTIFICATE_PROFILE,
    SEND_HEARTBEAT_INTERVAL,
    ConnectorView,
    SiteView,
    StationView,
)
from app.stations.site_details import (
    checked_energy_mix,
    checked_opening_hours,
    checked_parking_restrictions,
    checked_parking_type,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# OCPP-J: the identity is the last URL path segment; 2.0.1 allows at most 48 characters.
IDENTITY = re.compile(r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$")
# OCPP security whitepaper / 2.0.1 BasicAuthPassword: 16 to 40 characters.
PASSWORD_LENGTH = (16, 40)
PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")
SITE_FIELDS = (
    "name",
    "address",
    "city",
    "postal_code",
    "country",
    "time_zone",
    "latitude",
    "longitude",
    *sorted(GRID_FIELDS),
    "publish",
    "opening_hours",
    "energy_mix",
    "parking_restrictions",
    "parking_type",
)
STATION_FIELDS = (
    "name",
    "site_id",
    "security_profile",
    "free_vend",
    "assumed_protocol",
    "heartbeat_interval_s",
)


@dataclass(frozen=True, slots=True)
class NewStation:
    """A station just created, and the password generated for it (shown once)."""

    station: StationView
    password: str | None


CONNECTOR_FIELDS = (
    "standard",
    "format",
    "power_type",
    "max_voltage",
    "max_amperage",
    "max_power_w",
)


def _check_password(password: str) -> str:
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise InvalidInput(f"an OCPP password has {low} to {high} characters")
    return hash_station_password(password)


def _check_station_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - {*STATION_FIELDS, "password"}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    values = {name: value for name, value in changes.items() if name != "password"}
    profile = values.get("security_profile")
    if profile is not None and profile not in (0, 1, 2, 3):
        raise InvalidInput(
            "securityProfile is 0 (none), 1 (Basic auth), 2 (TLS + Basic) "
            "or 3 (TLS + client certificate)"
        )
    protocol = values.get("assumed_protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise InvalidInput(f"assumedProtocol is one of {', '.join(PROTOCOLS)}")
    if "heartbeat_interval_s" in values:
        seconds = values.pop("heartbeat_interval_s")
        if seconds is not None:
            values["heartbeat_interval"] = checked_interval(seconds)
    if "password" in changes:
        password = changes["password"]
        values["password_hash"] = _check_password(password) if password else None
    return values


async def _own_site(principal: Principal, site_id: int | None) -> None:
    if site_id is not None and not await repository.sites_by_ids(
        principal.organization_id, [site_id]
    ):
        raise NotFound(f"no site {site_id}")


async def create_site(uow: UnitOfWork, principal: Principal, fields: dict[str, Any]) -> SiteView:
    require(principal, Permission.MANAGE)
    if not str(fields.get("name") or "").strip():
        raise InvalidInput("a site needs a name")
    async with uow:
        return await repository.create_site(principal.organization_id, _site_values(fields))


async def update_site(
    uow: UnitOfWork, principal: Principal, site_id: int, changes: dict[str, Any]
) -> SiteView:
    require(principal, Permission.MANAGE)
    async with uow:
        updated = await repository.update_site(
            principal.organization_id, site_id, _site_values(changes)
        )
    if updated is None:
        raise NotFound(f"no site {site_id}")
    return updated


async def delete_site(uow: UnitOfWork, principal: Principal, site_id: int) -> None:
    """Its stations stay, without a site."""
    require(principal, Permission.MANAGE)
    async with uow:
        if not await repository.delete_site(principal.organization_id, site_id):
            raise NotFound(f"no site {site_id}")


def _site_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(SITE_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot set {', '.join(sorted(unknown))}")
    if "name" in fields and not str(fields["name"] or "").strip():
        raise InvalidInput("a site needs a name")
    if "publish" in fields and fields["publish"] is None:
        raise InvalidInput("publish: true or false")
    values = checked_grid_connection(fields)
    if "opening_hours" in values:
        values["opening_hours"] = checked_opening_hours(values["opening_hours"])
    if "energy_mix" in values:
        values["energy_mix"] = checked_energy_mix(values["energy_mix"])
    if "parking_restrictions" in values:
        values["parking_restrictions"] = checked_parking_restrictions(
            values["parking_restrictions"]
        )
    if "parking_type" in values:
        values["parking_type"] = checked_parking_type(values["parking_type"])
    return values


def new_station_password() -> str:
    """A random OCPP Basic-auth password: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def new_station_values(identity: str, fields: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A new station's checked values and the password generated for it (None when the
    caller chose one, or asked for security profile 0, which has none)."""
    if not IDENTITY.match(identity):
        raise InvalidInput("identity: 1 to 48 letters, digits or *-_=:+|@.")
    profile = fields.get("security_profile")
    password = fields.get("password")
    generated = None
    if profile == 0:
        if password:
            raise InvalidInput("securityProfile 0 connects without a password: leave it out")
    elif not password and profile != CLIENT_CERTIFICATE_PROFILE:  # profile 3 needs none
        generated = password = new_station_password()
    values = _check_station_changes({**fields, "password": password})
    if values.get("security_profile") is None:
        values["security_profile"] = 0 if profile == 0 else 1
    return values, generated


async def add_station(
    uow: UnitOfWork, organization_id: int, identity: str, fields: dict[str, Any]
) -> NewStation:
    """A station that may connect right away (Accepted), by the API's rules: security profile
    1 with a generated password unless the caller chose one or asked for profile 0."""
    # The password hash (scrypt) is CPU work: off the event loop.
    values, generated = await asyncio.to_thread(new_station_values, identity, fields)
    async with uow:
        if values.get("site_id") is not None and not await repository.sites_by_ids(
            organization_id, [values["site_id"]]
        ):
            raise NotFound(f"no site {values['site_id']}")
        if await repository.get_station_record(identity) is not None:
            raise AlreadyExists(f"station {identity!r} already exists")
        await repository.create_station(
            organization_id=organization_id,
            identity=identity,
            registration_status="Accepted",
            security_profile=values.pop("security_profile"),
            password_hash=values.pop("password_hash", None),
        )
        if values:
            await repository.update_station(organization_id, identity, values)
        created = await repository.get_station_by_identity(organization_id, identity)
    assert created is not None
    return NewStation(created, generated)


async def create_station(
    uow: UnitOfWork, principal: Principal, identity: str, fields: dict[str, Any]
) -> NewStation:
    """A station that may connect right away (admin); see add_station."""
    require(principal, Permission.MANAGE)
    return await add_station(uow, principal.organization_id, identity, fields)


async def provision_station(
    uow: UnitOfWork, organization_slug: str, identity: str, fields: dict[str, Any]
) -> NewStation:
    """The command line's way to add a station: the same rules as the API's."""
    organization_id = await repository.organization_id_by_slug(organization_slug)
    if organization_id is None:
        raise NotFound(f"no organization {organization_slug!r}")
    return await add_station(uow, organization_id, identity, fields)


async def update_station(
    uow: UnitOfWork, principal: Principal, identity: str, changes: dict[str, Any]
) -> StationView:
    """Name, site, OCPP password and security profile, free vend, assumed protocol, heartbeat
    interval; a new password or profile applies from the station's next connection, a new
    heartbeat interval is sent to a connected station at once (through the outbox, so it is
    not lost if this node stops) and answers its every boot."""
    require(principal, Permission.MANAGE)
    values = _check_station_changes(changes)
    async with uow:
        await _own_site(principal, values.get("site_id"))
        before = await repository.get_station_by_identity(principal.organization_id, identity)
        if before is None or (
            values
            and not await repository.update_station(principal.organization_id, identity, values)
        ):
            raise NotFound(f"no station {identity!r}")
        seconds = values.get("heartbeat_interval")
        if seconds is not None and seconds != before.heartbeat_interval and before.connected:
            await _tell_station(before, SEND_HEARTBEAT_INTERVAL, seconds=seconds)
        updated = await repository.get_station_by_identity(principal.organization_id, identity)
    assert updated is not None
    return updated


async def _tell_station(station: StationView, kind: str, **details: Any) -> None:
    """Queue a message for a connected station (inside the caller's transaction): the
    outbox's handler sends it, so it is not lost if this node stops."""
    await outbox.enqueue(
        station.organization_id,
        kind,
        {"organization_id": station.organization_id, "identity": station.identity, **details},
        f"{kind}:{station.id}:{utcnow().isoformat()}",
    )


async def delete_station(uow: UnitOfWork, principal: Principal, identity: str) -> int:
    """Only a station without charging sessions: sessions are billing records and stay."""
    require(principal, Permission.MANAGE)
    async with uow:
        station = await repository.get_station_by_identity(principal.organization_id, identity)
        if station is None:
            raise NotFound(f"no station {identity!r}")
        if await repository.has_sessions(station.id):
            raise InvalidInput(
                f"station {identity!r} has charging sessions; make it inoperative instead"
            )
        await repository.delete_station(station.id)
    return station.id


async def approve_station(uow: UnitOfWork, principal: Principal, identity: str) -> StationView:
    """Accept a station that connected as Pending. A connected one is asked to boot again
    (TriggerMessage BootNotification, through the outbox), which is answered Accepted; one
    that is not connected is told at its next BootNotification."""
    require(principal, Permission.OPERATE)
    async with uow:
        before = await repository.get_station_by_identity(principal.organization_id, identity)
        if before is None or not await repository.update_station(
            principal.organization_id, identity, {"registration_status": "Accepted"}
        ):
            raise NotFound(f"no station {identity!r}")
        approved = await repository.get_station_by_identity(principal.organization_id, identity)
        assert approved is not None
        if before.registration_status != "Accepted" and approved.connected:
            await _tell_station(approved, ASK_TO_BOOT)
        uow.emit(
            StationApproved(
                organization_id=approved.organization_id,
                station_id=approved.id,
                identity=approved.identity,
            )
        )
    assert approved is not None
    return approved


def _connector_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONNECTOR_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot set {', '.join(sorted(unknown))}")
    values = {name: value for name, value in fields.items() if value is not None}
    for name in ("max_voltage", "max_amperage", "max_power_w"):
        if name in values and values[name] <= 0:
            raise InvalidInput(f"{name} must be positive")
    return {
        name: str(value) if name in ("standard", "format", "power_type") else value
        for name, value in values.items()
    }


async def _station_of(principal: Principal, identity: str) -> StationView:
    station = await repository.get_station_by_identity(principal.organization_id, identity)
    if station is None:
        raise NotFound(f"no station {identity!r}")
    return station


async def _connector(principal: Principal, connector_id: int) -> ConnectorView:
    found = await repository.connectors_by_ids(principal.organization_id, [connector_id])
    if not found:
        raise NotFound(f"no connector {connector_id}")
    return found[0]


async def create_connector(
    uow: UnitOfWork,
    principal: Principal,
    identity: str,
    evse_id: int,
    connector_id: int,
    fields: dict[str, Any],
) -> ConnectorView:
    """Describe a connector before its station reports it (standard, power), e.g. for maps
    and roaming; a station's own reports only ever change its status."""
    require(principal, Permission.MANAGE)
    if evse_id < 1 or connector_id < 1:
        raise InvalidInput("EVSE and connector numbers start at 1")
    values = _connector_values(fields)
    async with uow:
        station = await _station_of(principal, identity)
        if await repository.find_connector(
            principal.organization_id, station.id, evse_id, connector_id
        ):
            raise AlreadyExists(f"{identity!r} has connector {evse_id}/{connector_id} already")
        _, row_id = await repository.ensure_connector(station.id, evse_id, connector_id)
        if values:
            await repository.update_connector(row_id, values)
    return await _connector(principal, row_id)


async def update_connector(
    uow: UnitOfWork, principal: Principal, connector_id: int, changes: dict[str, Any]
) -> ConnectorView:
    require(principal, Permission.MANAGE)
    values = _connector_values(changes)
    async with uow:
        await _connector(principal, connector_id)
        if values:
            await repository.update_connector(connector_id, values)
    return await _connector(principal, connector_id)


async def delete_connector(uow: UnitOfWork, principal: Principal, connector_id: int) -> None:
    """Only a connector without charging sessions (they are billing records)."""
    require(principal, Permission.MANAGE)
    async with uow:
        connector = await _connector(principal, connector_id)
        if await repository.connector_has_sessions(connector_id):
            raise InvalidInput(f"connector {connector_id} has charging sessions")
        await repository.delete_connector(connector)
        uow.emit(
            ConnectorRemoved(
                organization_id=principal.organization_id,
                station_id=connector.station_id,
                evse_id=connector.evse_id,
                connector_id=connector.connector_id,
            )
        )
