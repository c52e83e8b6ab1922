"""Domain commands as OCPP 1.6 calls, and the station's answers as domain results."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call

from app.commands import models
from app.commands.errors import CommandNotSupported
from app.errors import InvalidInput

# OCPP 1.6 CiString20Type: a longer id tag cut short would be another card.
MAX_ID_TAG = 20


def _trigger(message: str) -> str:
    message = "DiagnosticsStatusNotification" if message == "LogStatusNotification" else message
    if message not in models.TRIGGERS_16:
        raise CommandNotSupported(f"OCPP 1.6 cannot trigger {message}")
    return message


def _id_tag(uid: str) -> str:
    if len(uid) > MAX_ID_TAG:
        raise InvalidInput(
            f"idToken: OCPP 1.6 stations take id tags of at most {MAX_ID_TAG} characters"
        )
    return uid


def to_call(command: models.Command) -> Any:
    """The 1.6 call payload for a domain command."""
    match command:
        case models.RemoteStart():
            return call.RemoteStartTransaction(
                id_tag=_id_tag(command.id_token), connector_id=command.evse_id
            )
        case models.RemoteStop():
            try:
                transaction_id = int(command.transaction_id)
            except ValueError:
                raise CommandNotSupported(
                    f"1.6 transaction ids are integers, not {command.transaction_id!r}"
                ) from None
            return call.RemoteStopTransaction(transaction_id=transaction_id)
        case models.Reset():
            return call.Reset(type="Hard" if command.hard else "Soft")
        case models.UnlockConnector():
            return call.UnlockConnector(connector_id=command.evse_id)
        case models.ChangeAvailability():
            return call.ChangeAvailability(
                connector_id=command.evse_id,
                type="Operative" if command.operative else "Inoperative",
            )
        case models.TriggerMessage():
            return call.TriggerMessage(
                requested_message=_trigger(command.message), connector_id=command.evse_id
            )
        case models.ClearCache():
            return call.ClearCache()
        case models.DataTransfer():
            return call.DataTransfer(
                vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
            )
        case models.GetConfiguration():
            return call.GetConfiguration(key=list(command.keys) or None)
        case models.ChangeConfiguration():
            return call.ChangeConfiguration(key=command.key, value=command.value)
        case models.SetStationPassword():
            return call.ChangeConfiguration(key="AuthorizationKey", value=command.password)
        case models.UpdateFirmware():
            return call.UpdateFirmware(
                location=command.location,
                retrieve_date=command.retrieve_at,
                retries=command.retries,
                retry_interval=command.retry_interval_s,
            )
        case models.UploadLogs():
            return call.GetDiagnostics(
                location=command.location, start_time=command.start, stop_time=command.stop
            )
        case models.ReserveNow():
            return call.ReserveNow(
                connector_id=command.evse_id,
                expiry_date=command.expires_at,
                id_tag=_id_tag(command.id_token),
                reservation_id=command.reservation_id,
            )
        case models.CancelReservation():
            return call.CancelReservation(reservation_id=command.reservation_id)
        case models.GetLocalListVersion():
            return call.GetLocalListVersion()
        case models.SendLocalList():
            return call.SendLocalList(
                list_version=command.version,
                update_type="Full" if command.full else "Differential",
                local_authorization_list=[
                    {"id_tag": _id_tag(uid), "id_tag_info": {"status": status}}
                    if status is not None
                    else {"id_tag": _id_tag(uid)}  # removed from the list
                    for uid, status in command.entries
                ],
            )
        case models.SetChargingProfile():
            return call.SetChargingProfile(
                connector_id=command.evse_id, cs_charging_profiles=command.profile
            )
        case models.ClearChargingProfile():
            return call.ClearChargingProfile(
                id=command.profile_id,
                connector_id=command.evse_id,
                charging_profile_purpose=command.purpose,
                stack_level=command.stack_level,
            )
        case models.GetCompositeSchedule():
            return call.GetCompositeSchedule(
                connector_id=command.evse_id,
                duration=command.duration_s,
                charging_rate_unit=command.rate_unit,
            )
        case models.InstallCertificate():
            return call.InstallCertificate(
                certificate_type=_certificate_use(command.certificate_type),
                certificate=command.certificate,
            )
        case models.GetInstalledCertificates():
            if len(command.certificate_types) != 1:
                raise CommandNotSupported("OCPP 1.6 lists one certificate type at a time")
            return call.GetInstalledCertificateIds(
                certificate_type=_certificate_use(command.certificate_types[0])
            )
        case models.DeleteCertificate():
            return call.DeleteCertificate(certificate_hash_data=command.hash_data())
        case models.CertificateSigned():
            return call.CertificateSigned(certificate_chain=command.certificate_chain)
    raise CommandNotSupported(f"{command.name} is not available on OCPP 1.6")


# The 1.6 security extension's CertificateUseEnumType, by its 2.0.1 name.
CERTIFICATE_USES = {
    "CSMSRootCertificate": "CentralSystemRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}


def _certificate_use(certificate_type: str) -> str:
    if certificate_type not in CERTIFICATE_USES:
        raise CommandNotSupported(f"OCPP 1.6 has no {certificate_type} certificates")
    return CERTIFICATE_USES[certificate_type]


def _composite_schedule(response: Any) -> dict[str, Any] | None:
    """The schedule in the fields of 2.0.1's CompositeScheduleType, whatever the version:
    1.6's own start of the schedule (startSchedule) is its scheduleStart when the answer
    gives none, and its minimum rate has no place there."""
    schedule = response.charging_schedule
    if schedule is None:
        return None
    return {
        "evse_id": response.connector_id,
        "duration": schedule.get("duration"),
        "schedule_start": response.schedule_start or schedule.get("start_schedule"),
        "charging_rate_unit": schedule.get("charging_rate_unit"),
        "charging_schedule_period": schedule.get("charging_schedule_period") or [],
    }


def to_result(command: models.Command, response: Any) -> models.CommandResult:
    """The domain result of a 1.6 call result."""
    match command:
        case models.GetConfiguration():
            keys = {
                entry["key"]: entry.get("value") for entry in (response.configuration_key or [])
            }
            return models.CommandResult(
                status="Accepted", data={"values": keys, "unknown": response.unknown_key or []}
            )
        case models.DataTransfer() if response.data is not None:
            return models.CommandResult(status=str(response.status), data={"data": response.data})
        case models.UpdateFirmware():
            return models.CommandResult(status="Accepted")  # 1.6 has no status to give
        case models.UploadLogs():
            data = {"file_name": response.file_name} if response.file_name else {}
            return models.CommandResult(status="Accepted", data=data)
        case models.GetLocalListVersion():
            return models.CommandResult(status="Accepted", data={"version": response.list_version})
        case models.GetCompositeSchedule():
            return models.CommandResult(
                status=str(response.status), data={"schedule": _composite_schedule(response)}
            )
        case models.GetInstalledCertificates():
            certificates = [
                {"certificate_type": command.certificate_types[0], **hash_data}
                for hash_data in response.certificate_hash_data or []
            ]
            return models.CommandResult(
                status=str(response.status), data={"certificates": certificates}
            )
    return models.CommandResult(status=str(response.status))
