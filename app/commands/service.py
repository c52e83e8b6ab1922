"""Use case: send a command to a station, and keep a record of who sent what and the answer."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from app import metrics, outbox
from app.auth import service as auth
from app.auth.access import Permission, may, require
from app.auth.models import Principal
from app.auth.passwords import hash_station_password
from app.commands import repository, validation
from app.commands.errors import (
    BusUnavailable,
    CommandInterrupted,
    CommandTimeout,
    StationNotReady,
    StationOffline,
)
from app.commands.gateway import ChargerGateway
from app.commands.models import (
    CENTRAL_TOKEN,
    COMMAND_TYPES,
    HEARTBEAT_KEY_NAMES,
    PASSWORD_KEYS,
    CancelReservation,
    CertificateSigned,
    ChangeConfiguration,
    Command,
    CommandAction,
    CommandLogEntry,
    CommandResult,
    DeleteCertificate,
    GetConfiguration,
    InstallCertificate,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    SendLocalList,
    SetStationPassword,
    TriggerMessage,
    decode_command,
    heartbeat_key,
    logged_fields,
)
from app.errors import CPMSError, InvalidInput, NotFound, NotPermitted
from app.events import CommandCompleted
from app.pagination import Page, PageRequest
from app.sessions import service as sessions
from app.stations import service as stations
from app.stations.models import (
    ASK_TO_BOOT,
    SEND_HEARTBEAT_INTERVAL,
    SEND_SIGNED_CERTIFICATE,
    ConfigurationEntry,
    StationRecord,
    StationView,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


async def send_command(
    gateway: ChargerGateway,
    unit_of_work: Callable[[], UnitOfWork],
    identity: str,
    command: Command,
    actor: str = "system",
) -> CommandResult:
    """Send a command through the gateway; the command log holds the request and the outcome,
    and a CommandCompleted event tells subscribers how it ended.

    The log entry is written before sending, so a crash mid-command still leaves a trace; an
    input no station may be sent is refused before either."""
    validation.check(command)
    station = await stations.get_station_record(identity)
    if station is None:
        raise StationOffline(f"no station {identity!r}")
    command = await _with_token_types(station.organization_id, command)
    if command.request_id_field and not command.echoed_id:  # one given replaces its request
        request_id = await stations.next_request_id(station.id)
        command = dataclasses.replace(command, **{command.request_id_field: request_id})
    entry_id = await repository.log_request(
        station.organization_id,
        station.id,
        command.name,
        logged_fields(command),
        actor,
        command.echoed_id,
    )

    async def finish(status: str, result: CommandResult | None, error: CPMSError | None) -> None:
        async with unit_of_work() as uow:
            await repository.log_outcome(
                entry_id,
                status,
                {"status": result.status, **result.data} if result else None,
                error.code if error else None,
                error.message if error else None,
            )
            uow.emit(
                CommandCompleted(
                    organization_id=station.organization_id,
                    station_id=station.id,
                    identity=identity,
                    command_log_id=entry_id,
                    action=command.name,
                    status=status,
                    station_status=result.status if result else None,
                    error_code=error.code if error else None,
                )
            )

    started = time.perf_counter()

    def timed(outcome: str) -> None:
        metrics.COMMAND_SECONDS.labels(action=command.name, result=outcome).observe(
            time.perf_counter() - started
        )

    try:
        result = await gateway.send(identity, command)
    except CPMSError as error:
        timed("timeout" if error.code == "timeout" else "failed")
        await finish("timeout" if error.code == "timeout" else "failed", None, error)
        raise
    except BaseException as error:  # cancelled (this node is stopping) or a fault
        timed("failed")
        reason = (
            "the node sending it stopped before the station answered"
            if isinstance(error, asyncio.CancelledError)
            else "an unexpected error ended it"
        )
        try:  # shielded: a second cancellation must not leave the entry pending
            await asyncio.shield(finish("failed", None, CommandInterrupted(reason)))
        except Exception:
            logger.warning("command log entry %s left pending for the sweep", entry_id)
        raise
    timed("accepted" if result.accepted else "rejected")
    result = dataclasses.replace(result, request_id=command.echoed_id)
    await finish("accepted" if result.accepted else "rejected", result, None)
    if result.accepted:
        await _record_effect(unit_of_work(), station, command, result)
    return result


# A command's sender gives up after CPMS_COMMAND_TIMEOUT_S and a few seconds of routing grace;
# an entry still pending this long after that has no sender left to settle it.
ABANDONED_MARGIN = timedelta(minutes=1)


async def remote_start_token(station_id: int, remote_start_id: int) -> tuple[str, str] | None:
    """The id token (uid, 2.0.1 type) of the remote start the station echoes this
    remoteStartId of: a transaction it reports without a token is still the driver's."""
    request = await repository.echoed_request(
        station_id, CommandAction.REMOTE_START, remote_start_id
    )
    if request is None:
        return None
    return str(request["id_token"]), str(request.get("token_type") or CENTRAL_TOKEN)


# The command whose progress each kind of transfer status report tells.
_TRANSFER_COMMANDS = {
    "firmware": CommandAction.UPDATE_FIRMWARE,
    "diagnostics": CommandAction.UPLOAD_LOGS,
}


async def record_progress(station_id: int, kind: str, request_id: int | None, status: str) -> bool:
    """A firmware (`kind` firmware) or log upload (diagnostics) status report, kept on the
    command it reports about: the one with its requestId (2.0.1), else the station's latest
    accepted one (1.6 reports carry no id). False when none matches."""
    request = await repository.echoed_request(station_id, _TRANSFER_COMMANDS[kind], request_id)
    if request is None:
        return False
    await repository.record_progress(request["command_log_id"], status, utcnow())
    return True


async def settle_abandoned(command_timeout_s: float) -> int:
    """Command log entries whose sender stopped or died mid-command (killed, or cut off
    before it could write the outcome): failed as interrupted instead of pending forever."""
    created_before = utcnow() - timedelta(seconds=command_timeout_s) - ABANDONED_MARGIN
    settled = await repository.settle_pending(
        created_before,
        CommandInterrupted.code,
        "no answer was recorded: the node sending it stopped before the station answered",
    )
    if settled:
        logger.info("settled %d command log entries left pending by a stopped node", settled)
    return settled


async def _with_token_types(organization_id: int, command: Command) -> Command:
    """The command with each id token typed as it is registered, so that a station that
    checks the card it is later presented with finds the same token (a card registered as
    ISO14443 goes out as ISO14443, not Central)."""
    match command:
        case RemoteStart() | ReserveNow() if command.token_type == CENTRAL_TOKEN:
            types = await auth.token_types(organization_id, [command.id_token])
            if command.id_token in types:
                return dataclasses.replace(command, token_type=types[command.id_token])
        case SendLocalList() if command.entries:
            types = await auth.token_types(organization_id, [uid for uid, _ in command.entries])
            return dataclasses.replace(command, token_types=tuple(types.items()))
    return command


async def _record_effect(
    uow: UnitOfWork, station: StationRecord, command: Command, result: CommandResult
) -> None:
    """What an accepted command changed on the station, kept on our side too."""
    match command:
        case GetConfiguration():
            entries = configuration_entries(result.data.get("values", {}))
            await stations.record_configuration(uow, station, entries)
        case ChangeConfiguration():
            if command.key in HEARTBEAT_KEY_NAMES:  # a whole number of seconds, checked
                await stations.record_heartbeat_interval(uow, station, int(command.value))
            else:
                entries = configuration_entries({command.key: command.value})
                await stations.record_configuration(uow, station, entries, values_only=True)
        case ReserveNow():
            await stations.record_reservation(
                uow,
                station,
                command.reservation_id,
                command.evse_id,
                command.id_token,
                datetime.fromisoformat(command.expires_at),
            )
        case CancelReservation():
            await stations.record_reservation_status(
                uow, station, command.reservation_id, "Cancelled"
            )


async def system_action(
    gateway: ChargerGateway,
    unit_of_work: Callable[[], UnitOfWork],
    identity: str,
    command: Command,
) -> str:
    """A command the system sends on its own (self-healing): the station's answer, or why
    there was none, in one word for the record of what was done."""
    try:
        result = await send_command(gateway, unit_of_work, identity, command)
    except CPMSError as error:
        return error.code
    return result.status


def outbox_handlers(
    gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork]
) -> dict[str, outbox.Handler]:
    """What the CPMS tells stations on its own: a new heartbeat interval, that a station
    waiting for approval is approved, the certificate signed for its request. The first two
    are also told at the station's next boot, and a station asks again for a certificate it
    did not get, so a station that is gone meanwhile is skipped; one not yet ready is tried
    again."""

    async def send(payload: dict[str, Any], command_of: Callable[[StationView], Command]) -> None:
        station = await stations.station_of_organization(
            payload["organization_id"], payload["identity"]
        )
        if station is None or not station.connected:
            return
        try:
            await send_command(gateway, unit_of_work, station.identity, command_of(station))
        except StationOffline:
            return
        except (StationNotReady, CommandTimeout, BusUnavailable, CommandInterrupted) as error:
            raise outbox.Retry(error.message) from error

    async def send_heartbeat_interval(payload: dict[str, Any]) -> None:
        await send(
            payload,
            lambda station: ChangeConfiguration(
                key=heartbeat_key(station.protocol), value=str(payload["seconds"])
            ),
        )

    async def ask_to_boot(payload: dict[str, Any]) -> None:
        await send(payload, lambda _station: TriggerMessage(message="BootNotification"))

    async def send_signed_certificate(payload: dict[str, Any]) -> None:
        certificate = CertificateSigned(
            certificate_chain=payload["certificate_chain"],
            certificate_type=payload["certificate_type"],
        )
        await send(payload, lambda _station: certificate)

    return {
        SEND_HEARTBEAT_INTERVAL: send_heartbeat_interval,
        ASK_TO_BOOT: ask_to_boot,
        SEND_SIGNED_CERTIFICATE: send_signed_certificate,
    }


def configuration_entries(values: dict[str, str | None]) -> list[ConfigurationEntry]:
    """Keys read with GetConfiguration: `Key` (1.6) or `Component.Variable` (2.0.1)."""
    entries = []
    for key, value in values.items():
        component, _, variable = key.rpartition(".")
        entries.append(ConfigurationEntry(variable=variable, value=value, component=component))
    return entries


def actor_of(principal: Principal) -> str:
    """Who sent a command, for the command log."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"api_key:{principal.api_key_id}"


PARTNER_ACTOR = "partner:"


def partner_actor(partner_id: int) -> str:
    """Who a roaming partner's command is logged as."""
    return f"{PARTNER_ACTOR}{partner_id}"


async def operate(
    gateway: ChargerGateway,
    unit_of_work: Callable[[], UnitOfWork],
    principal: Principal,
    identity: str,
    command: Command,
) -> CommandResult:
    """A command from the API. Staff who operate may send anything to their organization's
    stations, except which certificates a station trusts (admins); a driver may only start
    with their own id token and stop their own session. The station's password is changed
    only by rotate_station_password."""
    if isinstance(command, ChangeConfiguration) and command.key in PASSWORD_KEYS:
        raise InvalidInput(
            f"{command.key} is the station's password: rotateStationPassword changes it "
            "without losing the station"
        )
    if isinstance(command, InstallCertificate | DeleteCertificate):
        require(principal, Permission.MANAGE)  # which certificates a station trusts
    station = await _station_of(principal, identity)
    if not may(principal, Permission.OPERATE) and not (
        may(principal, Permission.CHARGE) and await _own_charging(principal, station.id, command)
    ):
        raise NotPermitted(f"the {principal.role} role may not send {command.name.api_name} here")
    return await send_command(gateway, unit_of_work, identity, command, actor_of(principal))


async def rotate_station_password(
    gateway: ChargerGateway,
    unit_of_work: Callable[[], UnitOfWork],
    principal: Principal,
    identity: str,
) -> CommandResult:
    """Give a station a new random password (admins). It is valid from the moment it is sent,
    so a station that applies it and reconnects at once is let in; the old one keeps working
    until the station first connects with the new one. A station that refuses it (or cannot
    be reached) keeps its old one only. The new password is never shown nor logged: only
    the station and our hash know it."""
    require(principal, Permission.MANAGE)
    station = await _station_of(principal, identity)
    if station.security_profile not in (1, 2):
        raise InvalidInput(
            f"station {identity} uses security profile {station.security_profile}, "
            "which has no password (profiles 1 and 2 have)"
        )
    # 20 random bytes as 40 hex digits: what a 1.6 AuthorizationKey holds, and a 2.0.1
    # BasicAuthPassword (16 to 40 characters) too.
    password = secrets.token_hex(20)
    password_hash = hash_station_password(password)
    await stations.offer_password(unit_of_work(), station.id, password_hash)
    command = SetStationPassword(password=password)
    try:
        result = await send_command(gateway, unit_of_work, identity, command, actor_of(principal))
    except CPMSError as error:
        # Without an answer the station may have taken it: it stays valid beside the old.
        if error.code != "timeout":
            await stations.withdraw_password(unit_of_work(), station.id, password_hash)
        raise
    if not result.accepted:
        await stations.withdraw_password(unit_of_work(), station.id, password_hash)
    return result


async def _station_of(principal: Principal, identity: str) -> StationRecord:
    """The caller's organization's station; another's is as unknown as a missing one."""
    station = await stations.get_station_record(identity)
    if station is None or station.organization_id != principal.organization_id:
        raise NotFound(f"no station {identity!r}")
    return station


async def _own_charging(principal: Principal, station_id: int, command: Command) -> bool:
    if principal.user_id is None:
        return False
    if isinstance(command, RemoteStart):
        owner = await auth.token_owner(principal.organization_id, command.id_token)
        return owner == principal.user_id
    if isinstance(command, RemoteStop):
        owner = await sessions.session_owner(station_id, command.transaction_id)
        return owner == principal.user_id
    return False


async def command_log(
    principal: Principal, station_id: int, request: PageRequest
) -> Page[CommandLogEntry]:
    """A station's commands, newest first."""
    require(principal, Permission.READ_NETWORK)
    return await repository.page_command_log(principal.organization_id, station_id, request)


async def logged_command(
    organization_id: int, entry_id: int
) -> tuple[Command, dict[str, Any], str] | None:
    """A logged command as it was sent, the station's answer and who sent it (for reactions
    to it)."""
    found = await repository.command_log_by_ids(organization_id, [entry_id])
    if not found or found[0].action not in COMMAND_TYPES:
        return None
    entry = found[0]
    command = decode_command({"name": entry.action, "fields": entry.request})
    return command, entry.response or {}, entry.actor


async def command_log_by_ids(
    principal: Principal, entry_ids: Sequence[int]
) -> dict[int, CommandLogEntry]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.command_log_by_ids(principal.organization_id, entry_ids)
    return {entry.id: entry for entry in found}


async def recent_failures(station_id: int, action: str, since: datetime) -> int:
    """How often this command failed, timed out or was refused on this station since."""
    return await repository.recent_failures(station_id, action, since)
