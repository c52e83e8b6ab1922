"""Who may connect: station credentials, security profiles, the unknown-station policy."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from app.attempts import FailedAttempts, RateLimited
from app.auth.models import UnknownStationPolicy
from app.auth.passwords import hash_station_password, verify_station_password
from app.errors import AlreadyExists, NotFound
from app.events import SecurityEventRaised, StationConnectionChanged
from app.stations import repository
from app.stations.models import CLIENT_CERTIFICATE_PROFILE, Admission, StationRecord
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

REPEATS_COUNTED_WITHIN = timedelta(minutes=5)


async def register_station(
    uow: UnitOfWork,
    identity: str,
    organization_slug: str,
    password: str | None = None,
    security_profile: int | None = None,
) -> StationRecord:
    """Add a station that may connect (Accepted); with a password it uses HTTP Basic auth."""
    async with uow:
        organization_id = await repository.organization_id_by_slug(organization_slug)
        if organization_id is None:
            raise NotFound(f"no organization {organization_slug!r}")
        if await repository.get_station_record(identity) is not None:
            raise AlreadyExists(f"station {identity!r} already exists")
        profile = security_profile if security_profile is not None else (1 if password else 0)
        return await repository.create_station(
            organization_id=organization_id,
            identity=identity,
            registration_status="Accepted",
            security_profile=profile,
            password_hash=hash_station_password(password) if password else None,
        )


async def admit_connection(
    uow: UnitOfWork,
    attempts: FailedAttempts,
    *,
    identity: str,
    password: str | None,
    tls: bool,
    protocol: str,
    node_id: str,
    certificate_name: str | None = None,
    registration_organization: str | None,
    address: str | None = None,
) -> Admission:
    """Decide whether a websocket may stay open, and record the station as connected. The
    credentials are checked before the transaction: a password kept with scrypt (from an
    earlier version) takes its ~50 ms off the event loop, and is then replaced by the fast
    hash. While the identity or the address is locked out after too many failures (wrong
    passwords, unknown identities) nothing is checked, and the station is told when to retry.
    `certificate_name` is the common name of the client certificate the TLS handshake
    verified, if the station presented one."""
    by_identity = attempts.station(identity)
    from_address = attempts.address("station", address)
    # Both at once: a reconnect storm waits for neither in turn.
    try:
        standing, known = await asyncio.gather(
            attempts.check(by_identity, from_address), repository.get_station_record(identity)
        )
    except RateLimited as locked:
        return Admission(None, "locked out", retry_after_s=locked.retry_after_s)
    keep: _KeptHash | None = None
    if known is not None:
        reason, keep = await _credential_problem(known, password, tls, certificate_name)
        if reason is not None:
            await attempts.failed(by_identity, from_address)
            async with uow:
                await _refuse(uow, known, identity, "InvalidCredentials", reason)
            return Admission(None, reason)
    async with uow:
        station = known or await repository.get_station_record(identity)
        if station is None:
            station = await _register_unknown(identity, password, registration_organization)
            if station is None:
                # Only the address counts: random identities would each start a count.
                await attempts.failed(from_address)
                await _refuse(uow, None, identity, "UnknownStation", "not registered")
                return Admission(None, "unknown station")
        elif known is None:  # registered meanwhile by a concurrent first connection
            reason, keep = await _credential_problem(station, password, tls, certificate_name)
            if reason is not None:
                await attempts.failed(by_identity, from_address)
                await _refuse(uow, station, identity, "InvalidCredentials", reason)
                return Admission(None, reason)
        if keep is not None:
            await repository.set_password_hash(
                station.id, keep.password_hash, was_pending=keep.was_pending
            )
        await repository.set_presence(
            station.id, connected=True, protocol=protocol, node_id=node_id
        )
        if by_identity.name in standing:
            await attempts.succeeded(by_identity)
        uow.emit(
            StationConnectionChanged(
                organization_id=station.organization_id,
                station_id=station.id,
                identity=identity,
                connected=True,
                protocol=protocol,
                node_id=node_id,
            )
        )
        return Admission(station)


@dataclass(frozen=True, slots=True)
class _KeptHash:
    """The hash to keep the station's password with from now on."""

    password_hash: str
    was_pending: bool  # the new password it was sent: the old one stops working


async def _credential_problem(
    station: StationRecord, password: str | None, tls: bool, certificate_name: str | None
) -> tuple[str | None, _KeptHash | None]:
    """Why the station may not connect (None: it may), and the hash to keep its password with
    from now on: the fast hash of one still kept with scrypt, or the new password it was sent
    and uses for the first time (until then the old one works too). A security profile 3
    station authenticates with its client certificate alone."""
    if station.security_profile >= 2 and not tls:
        return f"security profile {station.security_profile} requires TLS", None
    if station.security_profile == 1 and tls:
        return "security profile 1 station connected over TLS", None
    if station.security_profile == CLIENT_CERTIFICATE_PROFILE:
        if certificate_name is None:
            return "no client certificate", None
        if certificate_name != station.identity:
            return f"client certificate issued to {certificate_name[:64]!r}", None
        return None, None
    if station.password_hash is None:
        return None, None
    if password is None:
        return "no credentials", None
    matches, faster_hash = await verify_station_password(password, station.password_hash)
    if matches:
        return None, _KeptHash(faster_hash, was_pending=False) if faster_hash else None
    pending = await repository.pending_password_hash(station.id)
    if pending is not None and (await verify_station_password(password, pending))[0]:
        return None, _KeptHash(pending, was_pending=True)
    return "wrong password", None


async def _register_unknown(
    identity: str, password: str | None, registration_organization: str | None
) -> StationRecord | None:
    if registration_organization is None:
        return None
    organization = await repository.organization_policy(registration_organization)
    if organization is None:
        logger.warning("registration organization %r does not exist", registration_organization)
        return None
    organization_id, policy = organization
    if policy not in (UnknownStationPolicy.PENDING, UnknownStationPolicy.AUTO_REGISTER):
        return None
    return await repository.create_station(
        organization_id=organization_id,
        identity=identity,
        registration_status="Accepted"
        if policy == UnknownStationPolicy.AUTO_REGISTER
        else "Pending",
        security_profile=1 if password else 0,
        # Trust on first use: the password it presents now is the one it must use later.
        password_hash=hash_station_password(password) if password else None,
    )


async def _refuse(
    uow: UnitOfWork, station: StationRecord | None, identity: str, kind: str, reason: str
) -> None:
    """Record a refusal as a security event. Repeats within REPEATS_COUNTED_WITHIN are
    counted on the event already written (for unknown stations: one event whatever the
    identity), so a storm of refused connections writes one row, not one per attempt."""
    logger.warning("refused station %s: %s", identity, reason)
    now = utcnow()
    station_id = station.id if station else None
    if await repository.repeat_security_event(
        station_id=station_id,
        identity=identity,
        kind=kind,
        tech_info=reason,
        since=now - REPEATS_COUNTED_WITHIN,
        at=now,
    ):
        return
    await repository.add_security_event(
        station_id=station_id,
        identity=identity,
        kind=kind,
        tech_info=reason,
        source="server",
        occurred_at=now,
    )
    uow.emit(
        SecurityEventRaised(
            identity=identity,
            station_id=station.id if station else None,
            organization_id=station.organization_id if station else None,
            type=kind,
            tech_info=reason,
            source="server",
        )
    )
