"""Commands a roaming partner sends for its drivers (OCPI commands module): start a session,
stop it, unlock a connector, reserve an EVSE and cancel the reservation. They go to stations
through the same command service as the API's (`commands.send_command`), logged with the
partner as the actor.

A command is checked first (the place exists, the station is connected, the session is one
of the partner's), so that the partner's answer can refuse it at once; then it is sent, and
its outcome is one word the adapter reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.auth import service as auth
from app.auth.models import PartnerToken, Preauthorization, PreauthorizedAs
from app.commands import service as commands
from app.commands.errors import CommandNotSupported, CommandTimeout
from app.commands.gateway import ChargerGateway
from app.commands.models import (
    CancelReservation,
    Command,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    UnlockConnector,
)
from app.errors import CPMSError
from app.roaming.models import CallingPartner
from app.sessions import service as sessions
from app.sessions.models import SessionView
from app.stations import service as stations
from app.stations.models import EvseView, StationView
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork, UnitOfWorkFactory

# OCPI: the CPO does not ask the issuer again about a token it started a session with for
# this long after the command.
PREAUTHORIZATION = timedelta(minutes=15)


class CommandRefused(CPMSError):
    """The command cannot be carried out here (no such place, the station is offline)."""

    code = "refused"


class UnknownSession(CPMSError):
    """No running session of this partner has this id."""

    code = "unknown_session"


class UnknownReservation(CPMSError):
    """No reservation of this partner has this reference."""

    code = "unknown_reservation"


@dataclass(frozen=True)
class PartnerCommand:
    """A checked command, ready to send."""

    identity: str
    command: Command
    actor: str
    # A reservation: the partner, and its own id for it (kept once the station accepts).
    reservation: tuple[int, str] | None = None
    station_id: int | None = None


class Outcome:
    """How a sent command ended, in the words the partner is told."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"


async def _place(
    caller: CallingPartner, site_id: int, evse_uid: int | None
) -> tuple[StationView, EvseView]:
    """The station and EVSE at a location (its only EVSE when none is named)."""
    networks = await stations.site_networks(caller.organization_id, [site_id])
    if not networks or not networks[0].site.locatable:
        raise CommandRefused(f"no location {site_id}")
    network = networks[0]
    evses = [e for e in network.evses if evse_uid is None or e.id == evse_uid]
    if len(evses) != 1:
        raise CommandRefused(
            "no such EVSE at this location" if evses == [] else "name the EVSE: evse_uid"
        )
    station = next(s for s in network.stations if s.id == evses[0].station_id)
    if not station.connected:
        raise CommandRefused("the charging station is offline")
    return station, evses[0]


async def _authorized_place(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    site_id: int,
    evse_uid: int | None,
    token: PartnerToken,
    until: datetime,
    authorization_reference: str | None,
) -> tuple[StationView, EvseView]:
    """The station and EVSE a partner's command for its driver names; the token it comes
    with is kept, and accepted at our stations until `until` since the partner has
    authorized it (its reference goes with the session)."""
    if token.partner_id != caller.partner_id:
        raise CommandRefused("a partner sends its own tokens with its commands")
    station, evse = await _place(caller, site_id, evse_uid)
    await auth.store_partner_token(
        unit_of_work(),
        caller.organization_id,
        token,
        Preauthorization(
            until=until, kind=PreauthorizedAs.COMMAND, reference=authorization_reference
        ),
    )
    return station, evse


async def _connected_station(caller: CallingPartner, station_id: int) -> StationView:
    found = await stations.station_by_id(caller.organization_id, station_id)
    if found is None or not found.connected:
        raise CommandRefused("the charging station is offline")
    return found


async def start_session(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    site_id: int,
    evse_uid: int | None,
    token: PartnerToken,
    authorization_reference: str | None = None,
) -> PartnerCommand:
    """A remote start for the partner's token, which is accepted at our stations for a
    while (PREAUTHORIZATION)."""
    station, evse = await _authorized_place(
        unit_of_work,
        caller,
        site_id,
        evse_uid,
        token,
        utcnow() + PREAUTHORIZATION,
        authorization_reference,
    )
    command = RemoteStart(id_token=token.uid, evse_id=evse.evse_id, token_type=token.type)
    return PartnerCommand(station.identity, command, commands.partner_actor(caller.partner_id))


async def running_session_of_partner(
    caller: CallingPartner, session_id: int
) -> tuple[SessionView, StationView]:
    """A running session of one of the partner's tokens (UnknownSession otherwise), and its
    station, connected (CommandRefused otherwise)."""
    session = await sessions.session_of_organization(caller.organization_id, session_id)
    if session is None or session.state != "active" or session.id_token_id is None:
        raise UnknownSession(f"no running session {session_id}")
    if await auth.token_issuer(session.id_token_id) != caller.partner_id:
        raise UnknownSession(f"no running session {session_id} of this partner")
    return session, await _connected_station(caller, session.station_id)


async def stop_session(caller: CallingPartner, session_id: int) -> PartnerCommand:
    """A remote stop of a running session of one of the partner's tokens."""
    session, station = await running_session_of_partner(caller, session_id)
    command = RemoteStop(transaction_id=session.transaction_id)
    return PartnerCommand(station.identity, command, commands.partner_actor(caller.partner_id))


async def unlock_connector(
    caller: CallingPartner, site_id: int, evse_uid: int, connector_id: int
) -> PartnerCommand:
    station, evse = await _place(caller, site_id, evse_uid)
    command = UnlockConnector(evse_id=evse.evse_id, connector_id=connector_id)
    return PartnerCommand(station.identity, command, commands.partner_actor(caller.partner_id))


async def reserve_now(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    site_id: int,
    evse_uid: int | None,
    token: PartnerToken,
    expires_at: datetime,
    reference: str,
    authorization_reference: str | None = None,
) -> PartnerCommand:
    """Hold an EVSE for the partner's token until `expires_at`, when it stops being accepted
    here; the partner knows the reservation by `reference`. A reservation it holds already
    is updated in place (OCPI asks so): the station gets it again under the same id, which
    replaces it there (a new expiry, token or EVSE of the same station)."""
    if expires_at <= utcnow():
        raise CommandRefused("the reservation would expire before it starts")
    existing = await stations.partner_reservation(caller.partner_id, reference)
    held = existing if existing is not None and existing.status in ACTIVE_RESERVATION else None
    station, evse = await _authorized_place(
        unit_of_work, caller, site_id, evse_uid, token, expires_at, authorization_reference
    )
    if held is not None and held.station_id != station.id:
        raise CommandRefused(f"reservation {reference!r} is held at another station: cancel it")
    command = ReserveNow(
        evse_id=evse.evse_id,
        id_token=token.uid,
        expires_at=expires_at.isoformat(),
        token_type=token.type,
        reservation_id=held.reservation_id if held is not None else 0,
    )
    return PartnerCommand(
        station.identity,
        command,
        commands.partner_actor(caller.partner_id),
        reservation=(caller.partner_id, reference),
        station_id=station.id,
    )


async def cancel_reservation(caller: CallingPartner, reference: str) -> PartnerCommand:
    """Cancel a reservation the partner made (UnknownReservation if it has none held by
    that reference)."""
    found = await stations.partner_reservation(caller.partner_id, reference)
    if found is None or found.status not in ACTIVE_RESERVATION:
        raise UnknownReservation(f"no reservation {reference!r} held for this partner")
    station = await _connected_station(caller, found.station_id)
    command = CancelReservation(reservation_id=found.reservation_id)
    return PartnerCommand(
        station.identity, command, commands.partner_actor(caller.partner_id), station_id=station.id
    )


# A reservation the station holds (Requested: sent, not yet answered).
ACTIVE_RESERVATION = {"Active", "Requested"}
# What a station refusing a reservation says, in the words the partner is told.
_REFUSED = {
    "Occupied": Outcome.EVSE_OCCUPIED,
    "Faulted": Outcome.EVSE_INOPERATIVE,
    "Unavailable": Outcome.EVSE_INOPERATIVE,
}


async def carry_out(
    gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork], checked: PartnerCommand
) -> str:
    """Send the command; how it ended (an Outcome)."""
    try:
        result = await commands.send_command(
            gateway, unit_of_work, checked.identity, checked.command, checked.actor
        )
    except CommandTimeout:
        return Outcome.TIMEOUT
    except CommandNotSupported:
        return Outcome.NOT_SUPPORTED
    except CPMSError:
        return Outcome.FAILED
    if not result.accepted:
        return _REFUSED.get(result.status, Outcome.REJECTED)
    if isinstance(checked.command, CancelReservation):
        return Outcome.CANCELED_RESERVATION
    if checked.reservation is not None and result.request_id is not None:
        assert checked.station_id is not None
        partner_id, reference = checked.reservation
        await stations.tag_reservation(
            unit_of_work(), checked.station_id, result.request_id, partner_id, reference
        )
    return Outcome.ACCEPTED
