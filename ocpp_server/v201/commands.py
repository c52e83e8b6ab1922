"""Domain commands as OCPP 2.0.1 calls, and the station's answers as domain results."""

from __future__ import annotations

import dataclasses
from typing import Any

from ocpp.v201 import call

from app.commands import models
from app.commands.errors import CommandNotSupported

# A 1.6-style key without a component names a variable of this component.
DEFAULT_COMPONENT = "OCPPCommCtrlr"

# Charging profile purposes renamed since 1.6; the domain speaks 1.6.
PURPOSES = {"ChargePointMaxProfile": "ChargingStationMaxProfile"}


def _component_variable(key: str) -> dict[str, Any]:
    component, _, variable = key.rpartition(".")
    return {"component": {"name": component or DEFAULT_COMPONENT}, "variable": {"name": variable}}


def _trigger(message: str) -> str:
    message = "LogStatusNotification" if message == "DiagnosticsStatusNotification" else message
    if message not in models.TRIGGERS_201:
        raise CommandNotSupported(f"OCPP 2.0.1 cannot trigger {message}")
    return message


def _purpose(purpose: str | None) -> str | None:
    return None if purpose is None else PURPOSES.get(purpose, purpose)


def _charging_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """A 1.6 ChargingProfile as a 2.0.1 ChargingProfileType with a single schedule."""
    schedule = profile["charging_schedule"]
    transaction_id = profile.get("transaction_id")
    return {
        "id": profile["charging_profile_id"],
        "stack_level": profile["stack_level"],
        "charging_profile_purpose": _purpose(profile["charging_profile_purpose"]),
        "charging_profile_kind": profile["charging_profile_kind"],
        "recurrency_kind": profile.get("recurrency_kind"),
        "valid_from": profile.get("valid_from"),
        "valid_to": profile.get("valid_to"),
        "transaction_id": None if transaction_id is None else str(transaction_id),
        "charging_schedule": [
            {
                "id": 1,
                "start_schedule": schedule.get("start_schedule"),
                "duration": schedule.get("duration"),
                "charging_rate_unit": schedule["charging_rate_unit"],
                "charging_schedule_period": schedule["charging_schedule_period"],
                "min_charging_rate": schedule.get("min_charging_rate"),
            }
        ],
    }


def _clear_criteria(command: models.ClearChargingProfile) -> dict[str, Any] | None:
    criteria = {
        "evse_id": command.evse_id,
        "charging_profile_purpose": _purpose(command.purpose),
        "stack_level": command.stack_level,
    }
    return criteria if any(value is not None for value in criteria.values()) else None


def to_call(command: models.Command) -> Any:
    """The 2.0.1 call payload for a domain command."""
    match command:
        case models.RemoteStart():
            return call.RequestStartTransaction(
                id_token={"id_token": command.id_token, "type": command.token_type},
                remote_start_id=command.remote_start_id,
                evse_id=command.evse_id,
            )
        case models.RemoteStop():
            return call.RequestStopTransaction(transaction_id=command.transaction_id)
        case models.Reset():
            return call.Reset(type="Immediate" if command.hard else "OnIdle")
        case models.UnlockConnector():
            return call.UnlockConnector(evse_id=command.evse_id, connector_id=command.connector_id)
        case models.ChangeAvailability():
            return call.ChangeAvailability(
                operational_status="Operative" if command.operative else "Inoperative",
                evse={"id": command.evse_id} if command.evse_id else None,
            )
        case models.TriggerMessage():
            return call.TriggerMessage(
                requested_message=_trigger(command.message),
                evse={"id": command.evse_id} if command.evse_id else None,
            )
        case models.ClearCache():
            return call.ClearCache()
        case models.DataTransfer():
            return call.DataTransfer(
                vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
            )
        case models.GetConfiguration():
            if not command.keys:
                raise CommandNotSupported("2.0.1 reads the whole configuration with GetBaseReport")
            return call.GetVariables(
                get_variable_data=[_component_variable(key) for key in command.keys]
            )
        case models.ChangeConfiguration():
            return call.SetVariables(
                set_variable_data=[
                    {"attribute_value": command.value, **_component_variable(command.key)}
                ]
            )
        case models.SetStationPassword():
            return call.SetVariables(
                set_variable_data=[
                    {
                        "attribute_value": command.password,
                        **_component_variable("SecurityCtrlr.BasicAuthPassword"),
                    }
                ]
            )
        case models.UpdateFirmware():
            return call.UpdateFirmware(
                request_id=command.request_id,
                firmware={"location": command.location, "retrieve_date_time": command.retrieve_at},
                retries=command.retries,
                retry_interval=command.retry_interval_s,
            )
        case models.UploadLogs():
            return call.GetLog(
                log_type="DiagnosticsLog",
                request_id=command.request_id,
                log={
                    "remote_location": command.location,
                    "oldest_timestamp": command.start,
                    "latest_timestamp": command.stop,
                },
            )
        case models.ReserveNow():
            return call.ReserveNow(
                id=command.reservation_id,
                expiry_date_time=command.expires_at,
                id_token={"id_token": command.id_token, "type": command.token_type},
                evse_id=command.evse_id,
            )
        case models.CancelReservation():
            return call.CancelReservation(reservation_id=command.reservation_id)
        case models.GetLocalListVersion():
            return call.GetLocalListVersion()
        case models.SendLocalList():
            types = dict(command.token_types)
            return call.SendLocalList(
                version_number=command.version,
                update_type="Full" if command.full else "Differential",
                local_authorization_list=[
                    {
                        "id_token": {"id_token": uid, "type": types.get(uid, models.CENTRAL_TOKEN)},
                        # No info: removed from the list.
                        **({"id_token_info": {"status": status}} if status is not None else {}),
                    }
                    for uid, status in command.entries
                ]
                or None,
            )
        case models.SetChargingProfile():
            return call.SetChargingProfile(
                evse_id=command.evse_id, charging_profile=_charging_profile(command.profile)
            )
        case models.ClearChargingProfile():
            return call.ClearChargingProfile(
                charging_profile_id=command.profile_id,
                charging_profile_criteria=_clear_criteria(command),
            )
        case models.GetCompositeSchedule():
            return call.GetCompositeSchedule(
                duration=command.duration_s,
                evse_id=command.evse_id,
                charging_rate_unit=command.rate_unit,
            )
        case models.GetBaseReport():
            return call.GetBaseReport(
                request_id=command.request_id, report_base=command.report_base
            )
        case models.InstallCertificate():
            return call.InstallCertificate(
                certificate_type=command.certificate_type, certificate=command.certificate
            )
        case models.GetInstalledCertificates():
            return call.GetInstalledCertificateIds(
                certificate_type=list(command.certificate_types) or None
            )
        case models.DeleteCertificate():
            return call.DeleteCertificate(certificate_hash_data=command.hash_data())
        case models.CertificateSigned():
            return call.CertificateSigned(
                certificate_chain=command.certificate_chain,
                certificate_type=command.certificate_type,
            )
    raise CommandNotSupported(f"{command.name} is not available on OCPP 2.0.1")


def _key(entry: dict[str, Any]) -> str:
    return f"{entry['component']['name']}.{entry['variable']['name']}"


def to_result(command: models.Command, response: Any) -> models.CommandResult:
    """The domain result of a 2.0.1 call result, with the station's reason (statusInfo)
    when it gives one."""
    result = _result(command, response)
    status_info = getattr(response, "status_info", None)
    if status_info:
        return dataclasses.replace(result, data={**result.data, "status_info": status_info})
    return result


def _result(command: models.Command, response: Any) -> models.CommandResult:
    match command:
        case models.GetConfiguration():
            entries = response.get_variable_result
            values = {
                _key(e): e.get("attribute_value")
                for e in entries
                if e["attribute_status"] == "Accepted"
            }
            unknown = [_key(e) for e in entries if e["attribute_status"] != "Accepted"]
            return models.CommandResult(
                status="Accepted", data={"values": values, "unknown": unknown}
            )
        case models.ChangeConfiguration() | models.SetStationPassword():
            result = response.set_variable_result[0]
            reason = result.get("attribute_status_info")
            return models.CommandResult(
                status=str(result["attribute_status"]),
                data={"status_info": reason} if reason else {},
            )
        case models.DataTransfer() if response.data is not None:
            return models.CommandResult(status=str(response.status), data={"data": response.data})
        case models.UploadLogs():
            data = {"file_name": response.filename} if response.filename else {}
            return models.CommandResult(status=str(response.status), data=data)
        case models.GetLocalListVersion():
            return models.CommandResult(
                status="Accepted", data={"version": response.version_number}
            )
        case models.GetCompositeSchedule():
            return models.CommandResult(
                status=str(response.status), data={"schedule": response.schedule}
            )
        case models.GetInstalledCertificates():
            certificates = [
                {
                    "certificate_type": chain.get("certificate_type"),
                    **chain["certificate_hash_data"],
                }
                for chain in response.certificate_hash_data_chain or []
            ]
            return models.CommandResult(
                status=str(response.status), data={"certificates": certificates}
            )
    return models.CommandResult(status=str(response.status))
