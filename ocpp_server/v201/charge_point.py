"""OCPP 2.0.1: every message a charging station sends, translated to and from the domain."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OccurrenceConstraintViolationError as MissingField
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from app.auth.models import TokenVerdict
from app.stations.models import BootInfo, ConfigurationEntry, StationEvent, StatusReport
from app.timeparse import parse_timestamp, utcnow
from ocpp_server.link import StationLink, as_int, require, text
from ocpp_server.routes import routes_of


def id_token_info(verdict: TokenVerdict) -> dict[str, Any]:
    info: dict[str, Any] = {"status": verdict.status}
    if verdict.expires_at is not None:
        info["cache_expiry_date_time"] = verdict.expires_at.isoformat()
    if verdict.group_id:
        info["group_id_token"] = {"id_token": verdict.group_id[:36], "type": "Central"}
    return info


def _variable_key(item: dict[str, Any]) -> dict[str, Any]:
    """Which variable of which component an item (report data, event data) is about."""
    component = item.get("component") or {}
    variable = item.get("variable") or {}
    evse = component.get("evse") or {}
    return {
        "variable": str(variable.get("name", "")),
        "variable_instance": str(variable.get("instance") or ""),
        "component": str(component.get("name", "")),
        "component_instance": str(component.get("instance") or ""),
        "evse_id": int(evse.get("id") or 0),
        "connector_id": int(evse.get("connector_id") or 0),
    }


def _report_entries(item: dict[str, Any]) -> list[ConfigurationEntry]:
    """The attributes of one NotifyReport reportData item as configuration entries."""
    characteristics = item.get("variable_characteristics")
    return [
        ConfigurationEntry(
            **_variable_key(item),
            attribute_type=str(attribute.get("type") or "Actual"),
            value=text(attribute.get("value"), 2500),
            readonly=attribute.get("mutability") == "ReadOnly",
            characteristics=characteristics if isinstance(characteristics, dict) else None,
        )
        for attribute in item.get("variable_attribute") or []
    ]


def _station_event(event: dict[str, Any]) -> StationEvent:
    """A NotifyEvent eventData item: the variable's actual value when the event fired."""
    return StationEvent(
        entry=ConfigurationEntry(
            **_variable_key(event), value=text(event.get("actual_value"), 2500)
        ),
        trigger=text(event.get("trigger"), 16),
        cleared=bool(event.get("cleared", False)),
        tech_code=text(event.get("tech_code"), 50),
        tech_info=text(event.get("tech_info"), 255),
    )


class ChargePoint201(ChargePoint):
    """The CSMS's side of one OCPP 2.0.1 connection."""

    def __init__(self, link: StationLink, connection: Any) -> None:
        super().__init__(link.station.identity, connection)
        self.route_map = routes_of(self)
        self.link = link

    @property
    def station(self) -> Any:
        return self.link.station

    @on(Action.boot_notification, skip_schema_validation=True)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        require(payload, MissingField, "charging_station", "reason")
        charging_station = payload["charging_station"]
        if not isinstance(charging_station, dict):
            charging_station = {}
        require(charging_station, MissingField, "model", "vendor_name")
        modem = charging_station.get("modem") or {}
        boot = BootInfo(
            vendor=text(charging_station.get("vendor_name"), 50),
            model=text(charging_station.get("model"), 50),
            serial_number=text(charging_station.get("serial_number"), 50),
            firmware_version=text(charging_station.get("firmware_version"), 50),
            iccid=text(modem.get("iccid"), 32),
            imsi=text(modem.get("imsi"), 32),
            meter_type=None,
            meter_serial_number=None,
            reason=text(payload.get("reason"), 32),
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
        require(payload, MissingField, "connector_status", "evse_id", "connector_id")
        report = StatusReport(
            evse_id=as_int(payload["evse_id"], "evseId"),
            connector_id=as_int(payload["connector_id"], "connectorId"),
            status=text(payload["connector_status"], 16) or "Unknown",
            error_code=None,  # 2.0.1 reports faults through NotifyEvent
            vendor_error_code=None,
            info=None,
            occurred_at=parse_timestamp(payload.get("timestamp")),
        )
        await self.link.stations.record_status(self.link.unit_of_work(), self.station, report)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        verdict = await self.link.sessions.authorize(
            self.link.unit_of_work(),
            self.station,
            id_token["id_token"],
            id_token["type"],
            self.link.runtime.token_issuers,
        )
        return call_result.Authorize(id_token_info=id_token_info(verdict))

    @on(Action.transaction_event, skip_schema_validation=True)
    async def on_transaction_event(self, **payload: Any) -> call_result.TransactionEvent:
        require(payload, MissingField, "event_type", "timestamp", "seq_no", "transaction_info")
        info = payload["transaction_info"] if isinstance(payload["transaction_info"], dict) else {}
        require(info, MissingField, "transaction_id")
        evse = payload.get("evse") or {}
        id_token = payload.get("id_token") or {}
        remote_start = None
        if not id_token.get("id_token") and info.get("remote_start_id") is not None:
            remote_start = await self.link.remote_start_token(
                as_int(info["remote_start_id"], "transactionInfo.remoteStartId")
            )
        answer = await self.link.sessions.transaction_event(
            self.link.unit_of_work(),
            self.station,
            event_type=text(payload["event_type"], 16) or "",
            transaction_id=text(info["transaction_id"], 64) or "",
            seq_no=as_int(payload["seq_no"], "seqNo"),
            timestamp=parse_timestamp(payload["timestamp"]),
            offline=bool(payload.get("offline", False)),
            evse_id=as_int(evse["id"], "evse.id") if "id" in evse else None,
            connector_id=as_int(evse["connector_id"], "evse.connectorId")
            if "connector_id" in evse
            else None,
            id_token=text(id_token.get("id_token"), 255),
            token_type=text(id_token.get("type"), 20),
            charging_state=text(info.get("charging_state"), 16),
            stopped_reason=text(info.get("stopped_reason"), 32),
            meter_values=payload.get("meter_value") or [],
            remote_start_token=remote_start,
        )
        return call_result.TransactionEvent(
            # Running cost (Updated) or final cost (Ended), incl. VAT: stations that can show
            # it do; others ignore the field.
            total_cost=float(answer.total_cost) if answer.total_cost is not None else None,
            id_token_info=id_token_info(answer.verdict) if answer.verdict else None,
        )

    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, **payload: Any) -> call_result.MeterValues:
        require(payload, MissingField, "evse_id", "meter_value")
        await self.link.sessions.record_meter_values(
            self.link.unit_of_work(),
            self.station,
            evse_id=as_int(payload["evse_id"], "evseId"),
            transaction_id=None,
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

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(self, **_: Any) -> call_result.NotifyEVChargingNeeds:
        # Smart charging does not plan from EV needs yet: say so rather than promise a schedule.
        return call_result.NotifyEVChargingNeeds(status="Rejected")

    @on(Action.notify_report)
    async def on_notify_report(self, **payload: Any) -> call_result.NotifyReport:
        entries = [
            entry for item in payload.get("report_data") or [] for entry in _report_entries(item)
        ]
        await self.link.stations.record_configuration(
            self.link.unit_of_work(), self.station, entries
        )
        return call_result.NotifyReport()

    @on(Action.notify_event, skip_schema_validation=True)
    async def on_notify_event(self, **payload: Any) -> call_result.NotifyEvent:
        events = [_station_event(event) for event in payload.get("event_data") or []]
        await self.link.stations.record_events(self.link.unit_of_work(), self.station, events)
        return call_result.NotifyEvent()

    @on(Action.reservation_status_update, skip_schema_validation=True)
    async def on_reservation_status_update(
        self, **payload: Any
    ) -> call_result.ReservationStatusUpdate:
        require(payload, MissingField, "reservation_id", "reservation_update_status")
        await self.link.stations.record_reservation_status(
            self.link.unit_of_work(),
            self.station,
            as_int(payload["reservation_id"], "reservationId"),
            str(payload["reservation_update_status"]),
        )
        return call_result.ReservationStatusUpdate()

    # Smart-charging reports: acknowledged; the frames stay in the message log until smart
    # charging uses them.
    @on(Action.report_charging_profiles)
    async def on_report_charging_profiles(self, **_: Any) -> call_result.ReportChargingProfiles:
        return call_result.ReportChargingProfiles()

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(self, **_: Any) -> call_result.NotifyChargingLimit:
        return call_result.NotifyChargingLimit()

    # Progress of firmware updates and log uploads.
    @on(Action.firmware_status_notification, skip_schema_validation=True)
    async def on_firmware_status_notification(
        self, **payload: Any
    ) -> call_result.FirmwareStatusNotification:
        await self.link.record_transfer_status("firmware", payload, MissingField)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification, skip_schema_validation=True)
    async def on_log_status_notification(self, **payload: Any) -> call_result.LogStatusNotification:
        await self.link.record_transfer_status("diagnostics", payload, MissingField)
        return call_result.LogStatusNotification()

    @on(Action.sign_certificate)
    async def on_sign_certificate(
        self, csr: str, certificate_type: str | None = None, **_: Any
    ) -> call_result.SignCertificate:
        refusal = await self.link.sign_certificate(csr, certificate_type)
        if refusal is None:
            return call_result.SignCertificate(status="Accepted")
        return call_result.SignCertificate(
            status="Rejected",
            status_info={"reason_code": refusal.code, "additional_info": refusal.reason[:512]},
        )
