"""OCPP 1.6J: every message a charger sends, translated to and from the domain services."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OccurenceConstraintViolationError as MissingField
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from app.auth.models import UNKNOWN, TokenVerdict
from app.healing.rules import OCPP16_ERROR_CODES
from app.stations.models import BootInfo, StatusReport
from app.timeparse import parse_timestamp, utcnow
from ocpp_server.link import (
    INT32_MAX,
    INT63_MAX,
    StationLink,
    as_int,
    require,
    text,
)
from ocpp_server.routes import routes_of


def id_tag_info(verdict: TokenVerdict) -> dict[str, Any]:
    # 1.6 has no "Unknown": an unknown tag is Invalid.
    info: dict[str, Any] = {"status": "Invalid" if verdict.status == UNKNOWN else verdict.status}
    if verdict.expires_at is not None:
        info["expiry_date"] = verdict.expires_at.isoformat()
    if verdict.group_id:
        info["parent_id_tag"] = verdict.group_id[:20]
    return info


class ChargePoint16(ChargePoint):
    """The central system's side of one OCPP 1.6 connection."""

    def __init__(self, link: StationLink, connection: Any) -> None:
        super().__init__(link.station.identity, connection)
        self.route_map = routes_of(self)
        self.link = link

    @property
    def station(self) -> Any:
        return self.link.station

    @on(Action.boot_notification, skip_schema_validation=True)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        require(payload, MissingField, "charge_point_vendor", "charge_point_model")
        boot = BootInfo(
            vendor=text(payload.get("charge_point_vendor"), 50),
            model=text(payload.get("charge_point_model"), 50),
            serial_number=text(
                payload.get("charge_point_serial_number")
                or payload.get("charge_box_serial_number"),
                50,
            ),
            firmware_version=text(payload.get("firmware_version"), 50),
            iccid=text(payload.get("iccid"), 32),
            imsi=text(payload.get("imsi"), 32),
            meter_type=text(payload.get("meter_type"), 50),
            meter_serial_number=text(payload.get("meter_serial_number"), 50),
            reason=None,
        )
        answer = await self.link.stations.record_boot(self.link.unit_of_work(), self.station, boot)
        self.link.answered_boot(answer)
        return call_result.BootNotification(
            current_time=utcnow().isoformat(),
            interval=answer.heartbeat_interval,
            status=answer.status,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        # Every frame is a sign of life; the endpoint records it in batches.
        return call_result.Heartbeat(current_time=utcnow().isoformat())

    @on(Action.status_notification, skip_schema_validation=True)
    async def on_status_notification(self, **payload: Any) -> call_result.StatusNotification:
        require(payload, MissingField, "connector_id", "error_code", "status")
        error_code = text(payload["error_code"], 50) or "OtherError"
        vendor_error_code = text(payload.get("vendor_error_code"), 50)
        if error_code not in OCPP16_ERROR_CODES:
            # Seen in the field ("Error", vendor names): keep the raw code, map to OtherError.
            vendor_error_code = vendor_error_code or error_code[:50]
            error_code = "OtherError"
        report = StatusReport(
            evse_id=as_int(payload["connector_id"], "connectorId"),
            connector_id=1,
            status=text(payload["status"], 16) or "Unknown",
            error_code=None if error_code == "NoError" else error_code,
            vendor_error_code=vendor_error_code,
            info=text(payload.get("info"), 255),
            occurred_at=parse_timestamp(payload.get("timestamp")),
        )
        await self.link.stations.record_status(self.link.unit_of_work(), self.station, report)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        verdict = await self.link.sessions.authorize(
            self.link.unit_of_work(), self.station, id_tag, None, self.link.runtime.token_issuers
        )
        return call_result.Authorize(id_tag_info=id_tag_info(verdict))

    @on(Action.start_transaction, skip_schema_validation=True)
    async def on_start_transaction(self, **payload: Any) -> call_result.StartTransaction:
        require(payload, MissingField, "connector_id", "id_tag", "meter_start", "timestamp")
        result = await self.link.sessions.start_transaction(
            self.link.unit_of_work(),
            self.station,
            evse_id=as_int(payload["connector_id"], "connectorId"),
            id_tag=text(payload["id_tag"], 255) or "",
            meter_start_wh=as_int(payload["meter_start"], "meterStart", maximum=INT63_MAX),
            started_at=parse_timestamp(payload["timestamp"]),
        )
        return call_result.StartTransaction(
            transaction_id=result.transaction_id,
            id_tag_info=id_tag_info(result.verdict),
        )

    @on(Action.stop_transaction, skip_schema_validation=True)
    async def on_stop_transaction(self, **payload: Any) -> call_result.StopTransaction:
        require(payload, MissingField, "transaction_id", "meter_stop", "timestamp")
        verdict = await self.link.sessions.stop_transaction(
            self.link.unit_of_work(),
            self.station,
            # Offline starts produce -1, 0 or other ids we never issued: kept as orphans.
            transaction_id=as_int(payload["transaction_id"], "transactionId", minimum=-INT32_MAX),
            meter_stop_wh=as_int(payload["meter_stop"], "meterStop", maximum=INT63_MAX),
            ended_at=parse_timestamp(payload["timestamp"]),
            reason=text(payload.get("reason"), 32),
            id_tag=text(payload.get("id_tag"), 255),
            transaction_data=payload.get("transaction_data") or [],
        )
        return call_result.StopTransaction(id_tag_info=id_tag_info(verdict) if verdict else None)

    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, **payload: Any) -> call_result.MeterValues:
        require(payload, MissingField, "connector_id", "meter_value")
        transaction_id = payload.get("transaction_id")
        await self.link.sessions.record_meter_values(
            self.link.unit_of_work(),
            self.station,
            evse_id=as_int(payload["connector_id"], "connectorId"),
            transaction_id=text(transaction_id, 64) if transaction_id is not None else None,
            meter_values=payload["meter_value"],
        )
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, **_: Any) -> call_result.DataTransfer:
        # No vendor extension is handled yet; the frame is kept in the message log.
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, **payload: Any
    ) -> call_result.SecurityEventNotification:
        await self.link.stations.record_security_event(
            self.link.unit_of_work(),
            self.station,
            type,
            text(payload.get("tech_info"), 255),
            parse_timestamp(timestamp),
        )
        return call_result.SecurityEventNotification()

    # Progress of firmware updates and diagnostics/log uploads.
    @on(Action.diagnostics_status_notification, skip_schema_validation=True)
    async def on_diagnostics_status_notification(
        self, **payload: Any
    ) -> call_result.DiagnosticsStatusNotification:
        await self.link.record_transfer_status("diagnostics", payload, MissingField)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification, skip_schema_validation=True)
    async def on_firmware_status_notification(
        self, **payload: Any
    ) -> call_result.FirmwareStatusNotification:
        await self.link.record_transfer_status("firmware", payload, MissingField)
        return call_result.FirmwareStatusNotification()

    @on(Action.signed_firmware_status_notification, skip_schema_validation=True)
    async def on_signed_firmware_status_notification(
        self, **payload: Any
    ) -> call_result.SignedFirmwareStatusNotification:
        await self.link.record_transfer_status("firmware", payload, MissingField)
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification, skip_schema_validation=True)
    async def on_log_status_notification(self, **payload: Any) -> call_result.LogStatusNotification:
        await self.link.record_transfer_status("diagnostics", payload, MissingField)
        return call_result.LogStatusNotification()

    @on(Action.sign_certificate)
    async def on_sign_certificate(self, csr: str, **_: Any) -> call_result.SignCertificate:
        # The security extension's answer has no room for a reason: the log has it.
        refusal = await self.link.sign_certificate(csr, None)
        return call_result.SignCertificate(status="Accepted" if refusal is None else "Rejected")
