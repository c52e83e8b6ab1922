"""Mutations that operate stations: each sends one command through the ChargerGateway, whatever
the station's OCPP version or the node it is connected to, and returns a typed result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from ocpp.charge_point import camel_to_snake_case
from strawberry.scalars import JSON
from strawberry.types import Info

from app.commands import models
from app.commands.service import operate, rotate_station_password
from app.errors import CPMSError, InvalidInput
from schema.context import Context
from schema.enums import CertificateUse, IdTokenStatus
from schema.json_keys import station_answer
from schema.problems import (
    BusUnavailableError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    RejectedByStationError,
    StationCallError,
    StationNotReadyError,
    StationOfflineError,
    TimedOutError,
    problem,
)


@strawberry.type(
    description="The station accepted the command; `data` is what else it answered, with "
    "camelCase keys (a composite schedule in 2.0.1's CompositeScheduleType fields in either "
    "version; getConfiguration's `values` keyed by the station's own key names)."
)
class CommandAccepted:
    station_status: str
    data: dict[str, Any] = strawberry.field(graphql_type=JSON)
    request_id: int | None = strawberry.field(
        default=None,
        description="The id the CPMS gave this request, which the station echoes in what "
        "follows: a 2.0.1 remote start's remoteStartId (in its TransactionEvents), the "
        "requestId of a firmware update, log upload or base report (in their status "
        "notifications and reports). Positive and unique per station; the command log "
        "entry carries it too. Null for commands without one.",
    )


CommandOutcome = Annotated[
    CommandAccepted
    | RejectedByStationError
    | StationOfflineError
    | StationNotReadyError
    | BusUnavailableError
    | TimedOutError
    | StationCallError
    | NotAuthenticatedError
    | NotPermittedError
    | NotFoundError
    | InvalidInputError,
    strawberry.union("CommandOutcome"),
]


async def _send(
    info: Info[Context, None], identity: str, command: models.Command
) -> CommandOutcome:
    context = info.context
    try:
        result = await operate(
            context.gateway, context.runtime.unit_of_work, context.principal, identity, command
        )
    except CPMSError as error:
        return problem(error)  # type: ignore[return-value]
    return _outcome(identity, result)


def _outcome(identity: str, result: models.CommandResult) -> CommandOutcome:
    data = station_answer(result.data)
    if not result.accepted:
        reason = (result.data.get("status_info") or {}).get("reason_code")
        return RejectedByStationError(
            code="rejected",
            message=f"station {identity} answered {result.status}"
            + (f" ({reason})" if reason else ""),
            station_status=result.status,
            reason=reason,
            data=data,
        )
    return CommandAccepted(station_status=result.status, data=data, request_id=result.request_id)


def _positive(value: int | None, name: str) -> None:
    if value is not None and value < 0:
        raise InvalidInput(f"{name} must not be negative")


@strawberry.input
class LocalListEntry:
    id_token: str
    status: IdTokenStatus = IdTokenStatus.ACCEPTED


@strawberry.type
class OperationMutation:
    @strawberry.mutation(
        description="Start charging with an id token (operators; drivers with their own token)."
    )
    async def remote_start(
        self,
        info: Info[Context, None],
        identity: str,
        id_token: str,
        evse_id: int | None = None,
    ) -> CommandOutcome:
        if not id_token.strip():
            return problem(InvalidInput("idToken must not be empty"))  # type: ignore[return-value]
        return await _send(info, identity, models.RemoteStart(id_token=id_token, evse_id=evse_id))

    @strawberry.mutation(
        description="Stop a session by its transaction id (operators; drivers their own)."
    )
    async def remote_stop(
        self, info: Info[Context, None], identity: str, transaction_id: str
    ) -> CommandOutcome:
        return await _send(info, identity, models.RemoteStop(transaction_id=transaction_id))

    @strawberry.mutation(description="Soft reset (1.6 Soft, 2.0.1 OnIdle) or hard (Immediate).")
    async def reset(
        self, info: Info[Context, None], identity: str, hard: bool = False
    ) -> CommandOutcome:
        return await _send(info, identity, models.Reset(hard=hard))

    @strawberry.mutation(description="Unlock a connector's cable.")
    async def unlock_connector(
        self, info: Info[Context, None], identity: str, evse_id: int, connector_id: int = 1
    ) -> CommandOutcome:
        return await _send(
            info, identity, models.UnlockConnector(evse_id=evse_id, connector_id=connector_id)
        )

    @strawberry.mutation(description="Make an EVSE (or, with evseId 0, the station) (in)operative.")
    async def change_availability(
        self, info: Info[Context, None], identity: str, operative: bool, evse_id: int = 0
    ) -> CommandOutcome:
        return await _send(
            info, identity, models.ChangeAvailability(operative=operative, evse_id=evse_id)
        )

    @strawberry.mutation(
        description="Ask the station to send a message now, e.g. StatusNotification."
    )
    async def trigger_message(
        self, info: Info[Context, None], identity: str, message: str, evse_id: int | None = None
    ) -> CommandOutcome:
        return await _send(info, identity, models.TriggerMessage(message=message, evse_id=evse_id))

    @strawberry.mutation(description="Clear the station's authorization cache.")
    async def clear_cache(self, info: Info[Context, None], identity: str) -> CommandOutcome:
        return await _send(info, identity, models.ClearCache())

    @strawberry.mutation(
        description="Read configuration keys (1.6 keys, 2.0.1 Component.Variable); stored too."
    )
    async def get_configuration(
        self, info: Info[Context, None], identity: str, keys: list[str] | None = None
    ) -> CommandOutcome:
        return await _send(info, identity, models.GetConfiguration(keys=tuple(keys or ())))

    @strawberry.mutation(description="Change one configuration key or device-model variable.")
    async def change_configuration(
        self, info: Info[Context, None], identity: str, key: str, value: str
    ) -> CommandOutcome:
        return await _send(info, identity, models.ChangeConfiguration(key=key, value=value))

    @strawberry.mutation(
        description="Give the station a new random password (admins): 1.6 ChangeConfiguration "
        "AuthorizationKey, 2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword. The new "
        "password is valid once sent and is shown to no one; the old one keeps working until "
        "the station first connects with the new one. If the station refuses, only the old "
        "one stays valid."
    )
    async def rotate_station_password(
        self, info: Info[Context, None], identity: str
    ) -> CommandOutcome:
        context = info.context
        try:
            result = await rotate_station_password(
                context.gateway, context.runtime.unit_of_work, context.principal, identity
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return _outcome(identity, result)

    @strawberry.mutation(description="Install firmware from a URL at a time.")
    async def update_firmware(
        self,
        info: Info[Context, None],
        identity: str,
        location: str,
        retrieve_at: datetime,
        retries: int | None = None,
        retry_interval_s: int | None = None,
    ) -> CommandOutcome:
        try:
            _positive(retries, "retries")
            _positive(retry_interval_s, "retryIntervalS")
        except InvalidInput as error:
            return problem(error)  # type: ignore[return-value]
        command = models.UpdateFirmware(
            location=location,
            retrieve_at=retrieve_at.isoformat(),
            retries=retries,
            retry_interval_s=retry_interval_s,
        )
        return await _send(info, identity, command)

    @strawberry.mutation(description="Upload diagnostics (1.6) or the diagnostics log (2.0.1).")
    async def upload_logs(
        self,
        info: Info[Context, None],
        identity: str,
        location: str,
        start: datetime | None = None,
        stop: datetime | None = None,
    ) -> CommandOutcome:
        command = models.UploadLogs(
            location=location,
            start=start.isoformat() if start else None,
            stop=stop.isoformat() if stop else None,
        )
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="Reserve an EVSE (0: any) for an id token until a time; the reservation's "
        "id is CommandAccepted.requestId."
    )
    async def reserve_now(
        self,
        info: Info[Context, None],
        identity: str,
        evse_id: int,
        id_token: str,
        expires_at: datetime,
        reservation_id: Annotated[
            int | None,
            strawberry.argument(
                deprecation_reason="The CPMS gives every reservation its own id (returned as "
                "CommandAccepted.requestId); a value given here is not used."
            ),
        ] = None,
    ) -> CommandOutcome:
        command = models.ReserveNow(
            evse_id=evse_id,
            id_token=id_token,
            expires_at=expires_at.isoformat(),
        )
        return await _send(info, identity, command)

    @strawberry.mutation(description="Cancel a reservation.")
    async def cancel_reservation(
        self, info: Info[Context, None], identity: str, reservation_id: int
    ) -> CommandOutcome:
        return await _send(info, identity, models.CancelReservation(reservation_id=reservation_id))

    @strawberry.mutation(description="The version of the station's local authorization list.")
    async def get_local_list_version(
        self, info: Info[Context, None], identity: str
    ) -> CommandOutcome:
        return await _send(info, identity, models.GetLocalListVersion())

    @strawberry.mutation(
        description="Send the local authorization list, whole or as a differential update."
    )
    async def send_local_list(
        self,
        info: Info[Context, None],
        identity: str,
        version: int,
        entries: list[LocalListEntry],
        full: bool = True,
    ) -> CommandOutcome:
        if version < 1:
            return problem(InvalidInput("version must be at least 1"))  # type: ignore[return-value]
        command = models.SendLocalList(
            version=version,
            full=full,
            entries=tuple((entry.id_token, entry.status) for entry in entries),
        )
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="Install a charging profile (OCPP 1.6 ChargingProfile, camelCase JSON)."
    )
    async def set_charging_profile(
        self, info: Info[Context, None], identity: str, evse_id: int, profile: JSON
    ) -> CommandOutcome:
        if not isinstance(profile, dict) or "chargingSchedule" not in profile:
            return problem(  # type: ignore[return-value]
                InvalidInput("profile is a ChargingProfile object with a chargingSchedule")
            )
        command = models.SetChargingProfile(evse_id=evse_id, profile=camel_to_snake_case(profile))
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="Clear charging profiles by id or by EVSE/purpose/stack level."
    )
    async def clear_charging_profile(
        self,
        info: Info[Context, None],
        identity: str,
        profile_id: int | None = None,
        evse_id: int | None = None,
    ) -> CommandOutcome:
        command = models.ClearChargingProfile(profile_id=profile_id, evse_id=evse_id)
        return await _send(info, identity, command)

    @strawberry.mutation(description="The schedule an EVSE will follow for the next seconds.")
    async def get_composite_schedule(
        self, info: Info[Context, None], identity: str, evse_id: int, duration_s: int
    ) -> CommandOutcome:
        if duration_s <= 0:
            return problem(InvalidInput("durationS must be positive"))  # type: ignore[return-value]
        command = models.GetCompositeSchedule(evse_id=evse_id, duration_s=duration_s)
        return await _send(info, identity, command)

    @strawberry.mutation(description="2.0.1: ask for the device model (arrives as NotifyReport).")
    async def get_base_report(
        self,
        info: Info[Context, None],
        identity: str,
        request_id: Annotated[
            int | None,
            strawberry.argument(
                deprecation_reason="The CPMS gives every report its own requestId (returned "
                "as CommandAccepted.requestId); a value given here is not used."
            ),
        ] = None,
        report_base: str = "FullInventory",
    ) -> CommandOutcome:
        command = models.GetBaseReport(report_base=report_base)
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="Install a root certificate (PEM) the station is to trust (admins); 1.6 "
        "stations, with their security extension, take CSMS and manufacturer roots."
    )
    async def install_certificate(
        self,
        info: Info[Context, None],
        identity: str,
        certificate_type: CertificateUse,
        certificate: str,
    ) -> CommandOutcome:
        command = models.InstallCertificate(
            certificate_type=certificate_type.value, certificate=certificate
        )
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="The certificates installed on the station, as `data.certificates` "
        "(type and hash data: what deleteCertificate takes); certificateTypes left out: all "
        "(1.6: exactly one type)."
    )
    async def get_installed_certificates(
        self,
        info: Info[Context, None],
        identity: str,
        certificate_types: list[CertificateUse] | None = None,
    ) -> CommandOutcome:
        command = models.GetInstalledCertificates(
            certificate_types=tuple(use.value for use in certificate_types or ())
        )
        return await _send(info, identity, command)

    @strawberry.mutation(
        description="Delete an installed certificate, named by its hash data (admins)."
    )
    async def delete_certificate(
        self,
        info: Info[Context, None],
        identity: str,
        hash_algorithm: str,
        issuer_name_hash: str,
        issuer_key_hash: str,
        serial_number: str,
    ) -> CommandOutcome:
        command = models.DeleteCertificate(
            hash_algorithm=hash_algorithm,
            issuer_name_hash=issuer_name_hash,
            issuer_key_hash=issuer_key_hash,
            serial_number=serial_number,
        )
        return await _send(info, identity, command)

    @strawberry.mutation(description="A vendor-specific DataTransfer.")
    async def data_transfer(
        self,
        info: Info[Context, None],
        identity: str,
        vendor_id: str,
        message_id: str | None = None,
        data: str | None = None,
    ) -> CommandOutcome:
        command = models.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        return await _send(info, identity, command)
