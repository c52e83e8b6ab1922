"""Commands a roaming partner sends for its drivers (OCPI commands module): start a session,
stop it, unlock a connector. They go to stations through the same command service as the
API's (`commands.send_command`), logged with the partner as the actor.

A command is checked first (the place exists, the station is connected, the session is one
of the partner's), so that the partner's answer can refuse it at once; then it is sent, and
its outcome is one word the adapter reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from app.auth import service as auth
from app.auth.models import PartnerToken, Preauthorization, PreauthorizedAs
from app.commands import service as commands
from app.commands.errors import CommandNotSupported, CommandTimeout
from app.commands.gateway import ChargerGateway
from app.commands.models import Command, RemoteStart, RemoteStop, UnlockConnector
from app.errors import CPMSError
from app.roaming.models import CallingPartner
from app.sessions import service as sessions
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


@dataclass(frozen=True)
class PartnerCommand:
    """A checked command, ready to send."""

    identity: str
    command: Command
    actor: str


class Outcome:
    """How a sent command ended, in the words the partner is told."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"


def _actor(caller: CallingPartner) -> str:
    return f"partner:{caller.partner_id}"


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


async def start_session(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    site_id: int,
    evse_uid: int | None,
    token: PartnerToken,
    authorization_reference: str | None = None,
) -> PartnerCommand:
    """A remote start for the partner's token, which is kept and accepted at our stations for
    a while: the partner has authorized it (its reference goes with the session)."""
    if token.partner_id != caller.partner_id:
        raise CommandRefused("a partner starts sessions with its own tokens")
    station, evse = await _place(caller, site_id, evse_uid)
    await auth.store_partner_token(
        unit_of_work(),
        caller.organization_id,
        token,
        Preauthorization(
            until=utcnow() + PREAUTHORIZATION,
            kind=PreauthorizedAs.COMMAND,
            reference=authorization_reference,
        ),
    )
    command = RemoteStart(id_token=token.uid, evse_id=evse.evse_id, token_type=token.type)
    return PartnerCommand(station.identity, command, _actor(caller))


async def stop_session(caller: CallingPartner, session_id: int) -> PartnerCommand:
    """A remote stop of a running session of one of the partner's tokens."""
    session = await sessions.session_of_organization(caller.organization_id, session_id)
    if session is None or session.state != "active" or session.id_token_id is None:
        raise UnknownSession(f"no running session {session_id}")
    if await auth.token_issuer(session.id_token_id) != caller.partner_id:
        raise UnknownSession(f"no running session {session_id} of this partner")
    found = await stations.station_by_id(caller.organization_id, session.station_id)
    if found is None or not found.connected:
        raise CommandRefused("the charging station is offline")
    command = RemoteStop(transaction_id=session.transaction_id)
    return PartnerCommand(found.identity, command, _actor(caller))


async def unlock_connector(
    caller: CallingPartner, site_id: int, evse_uid: int, connector_id: int
) -> PartnerCommand:
    station, evse = await _place(caller, site_id, evse_uid)
    command = UnlockConnector(evse_id=evse.evse_id, connector_id=connector_id)
    return PartnerCommand(station.identity, command, _actor(caller))


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
    return Outcome.ACCEPTED if result.accepted else Outcome.REJECTED
