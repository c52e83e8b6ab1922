"""Domain commands as OCPP 1.6 calls, and the station's answers as domain results."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call

from app.commands import models
from app.commands.errors import CommandNotSupported


def to_call(command: models.Command) -> Any:
    """The 1.6 call payload for a domain command."""
    match command:
        case models.RemoteStart():
            return call.RemoteStartTransaction(
                id_tag=command.id_token[:20], connector_id=command.evse_id
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
                requested_message=command.message, connector_id=command.evse_id
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
    raise CommandNotSupported(f"{command.name} is not available on OCPP 1.6")


def to_result(command: models.Command, response: Any) -> models.CommandResult:
    """The domain result of a 1.6 call result."""
    if isinstance(command, models.GetConfiguration):
        keys = {entry["key"]: entry.get("value") for entry in (response.configuration_key or [])}
        return models.CommandResult(
            status="Accepted", data={"values": keys, "unknown": response.unknown_key or []}
        )
    data: dict[str, Any] = {}
    if isinstance(command, models.DataTransfer) and response.data is not None:
        data["data"] = response.data
    return models.CommandResult(status=str(response.status), data=data)
