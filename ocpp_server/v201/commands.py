"""Domain commands as OCPP 2.0.1 calls, and the station's answers as domain results."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call

from app.commands import models
from app.commands.errors import CommandNotSupported

# A 1.6-style key without a component names a variable of this component.
DEFAULT_COMPONENT = "OCPPCommCtrlr"


def _component_variable(key: str) -> dict[str, Any]:
    component, _, variable = key.rpartition(".")
    return {"component": {"name": component or DEFAULT_COMPONENT}, "variable": {"name": variable}}


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
                requested_message=command.message,
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
    raise CommandNotSupported(f"{command.name} is not available on OCPP 2.0.1")


def _key(entry: dict[str, Any]) -> str:
    return f"{entry['component']['name']}.{entry['variable']['name']}"


def to_result(command: models.Command, response: Any) -> models.CommandResult:
    """The domain result of a 2.0.1 call result."""
    if isinstance(command, models.GetConfiguration):
        entries = response.get_variable_result
        values = {
            _key(e): e.get("attribute_value")
            for e in entries
            if e["attribute_status"] == "Accepted"
        }
        unknown = [_key(e) for e in entries if e["attribute_status"] != "Accepted"]
        return models.CommandResult(status="Accepted", data={"values": values, "unknown": unknown})
    if isinstance(command, models.ChangeConfiguration):
        status = response.set_variable_result[0]["attribute_status"]
        return models.CommandResult(status=str(status))
    data: dict[str, Any] = {}
    if isinstance(command, models.DataTransfer) and response.data is not None:
        data["data"] = response.data
    return models.CommandResult(status=str(response.status), data=data)
