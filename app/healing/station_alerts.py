"""What an operator must see about a station, as reactions to what the stations domain records:
a station waiting for approval or refused at boot, a security event it reported, a failed
firmware update, a station that went offline (in the transaction that records it); a faulted
connector (once its status is stored: statuses are written by group commit)."""

from __future__ import annotations

from collections.abc import Sequence

from app.events import (
    ConnectorStatusChanged,
    FirmwareStatusReported,
    SecurityEventRaised,
    StationApproved,
    StationBooted,
    StationConnectionChanged,
    StationEventsReported,
)
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.healing.rules import error_code_for_event
from app.healing.service import (
    OfflineStation,
    alert_key,
    back_online,
    clear_alert,
    clear_station_alert,
    has_open_fault_alert,
    on_connector_status,
    raise_alert,
    remember_open_alerts,
    watch_offline_many,
)
from app.stations.models import StatusReport
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

# What a boot is answered, and the alert it keeps open until the station is accepted.
REGISTRATION_ALERTS = (
    ("Pending", AlertKind.STATION_PENDING, AlertSeverity.INFO, "waits for an operator's approval"),
    ("Rejected", AlertKind.BOOT_REJECTED, AlertSeverity.WARNING, "was refused at boot"),
)
# 1.6 FirmwareStatus and 2.0.1 FirmwareStatusEnumType values that mean the update failed.
FIRMWARE_FAILURES = frozenset(
    {
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
        "InstallRebooting_Failed",
        "SignatureError",
    }
)


async def on_boots(uow: UnitOfWork, boots: Sequence[StationBooted]) -> None:
    """A station waiting for approval, or refused, is something an operator must see; an
    accepted boot resolves either."""
    for boot in boots:
        for answer, kind, severity, message in REGISTRATION_ALERTS:
            key = alert_key(kind, boot.station_id)
            if boot.registration_status == answer:
                draft = AlertDraft(
                    organization_id=boot.organization_id,
                    kind=kind,
                    severity=severity,
                    message=f"Station {boot.identity} {message}",
                    dedupe_key=key,
                    station_id=boot.station_id,
                )
                await raise_alert(uow, draft)
            else:
                await clear_station_alert(uow, boot.organization_id, key)


async def on_approvals(uow: UnitOfWork, approvals: Sequence[StationApproved]) -> None:
    for approval in approvals:
        key = alert_key(AlertKind.STATION_PENDING, approval.station_id)
        await clear_alert(uow, approval.organization_id, key)


async def on_security_events(uow: UnitOfWork, events: Sequence[SecurityEventRaised]) -> None:
    """What a station reports about its own security (the connections we refused are
    security events too, kept but not alerted one by one)."""
    for event in events:
        if event.source != "station" or event.station_id is None or event.organization_id is None:
            continue
        draft = AlertDraft(
            organization_id=event.organization_id,
            kind=AlertKind.SECURITY_EVENT,
            severity=AlertSeverity.WARNING,
            message=f"Station {event.identity} reported {event.type}",
            dedupe_key=alert_key(AlertKind.SECURITY_EVENT, event.station_id, event.type),
            station_id=event.station_id,
            details={"type": event.type, "techInfo": event.tech_info},
        )
        await raise_alert(uow, draft)


async def on_firmware_statuses(uow: UnitOfWork, reports: Sequence[FirmwareStatusReported]) -> None:
    """A failed firmware update is an alert until one is installed."""
    for report in reports:
        key = alert_key(AlertKind.FIRMWARE_FAILED, report.station_id)
        if report.status in FIRMWARE_FAILURES:
            draft = AlertDraft(
                organization_id=report.organization_id,
                kind=AlertKind.FIRMWARE_FAILED,
                severity=AlertSeverity.WARNING,
                message=f"Firmware update of {report.identity} failed: {report.status}",
                dedupe_key=key,
                station_id=report.station_id,
                details={"status": report.status},
            )
            await raise_alert(uow, draft)
        elif report.status == "Installed":
            await clear_station_alert(uow, report.organization_id, key)


async def on_connections(uow: UnitOfWork, changes: Sequence[StationConnectionChanged]) -> None:
    """A station that connects: this node learns its open alerts, and its offline alert
    resolves. Stations that went offline (a batch, when thousands drop at once) are watched
    for staying so, in one statement."""
    gone: list[OfflineStation] = []
    for change in changes:
        if change.station_id is None:
            continue
        if change.connected:
            await remember_open_alerts(change.station_id)
            await back_online(uow, change.organization_id, change.station_id)
        else:
            gone.append(OfflineStation(change.organization_id, change.station_id, change.identity))
    if gone:
        await watch_offline_many(uow, gone)


def may_change_a_fault_alert(change: ConnectorStatusChanged) -> bool:
    """A fault, or another status of a connector this node knows an open fault alert of:
    the statuses that need on_connector_statuses."""
    return change.status == "Faulted" or has_open_fault_alert(
        change.station_id, change.evse_id, change.connector_id
    )


async def on_connector_statuses(uow: UnitOfWork, changes: Sequence[ConnectorStatusChanged]) -> None:
    """A fault opens an alert (and a recovery, when a remote action may clear it); any other
    status resolves the connector's open fault alert. Most statuses find no open alert in
    this node's set and cost nothing more."""
    for change in changes:
        await on_connector_status(
            uow, change.organization_id, change.station_id, change.identity, change
        )


async def on_station_events(uow: UnitOfWork, reports: Sequence[StationEventsReported]) -> None:
    """A problem a station reports as a device-model event (or its clearing) is handled like
    a connector's fault."""
    for reported in reports:
        for event in reported.events:
            code = error_code_for_event(
                event.component,
                event.variable,
                event.value,
                trigger=event.trigger,
                cleared=event.cleared,
            )
            if code is None:
                continue
            report = StatusReport(
                evse_id=event.evse_id,
                connector_id=event.connector_id or (1 if event.evse_id else 0),
                status="Available" if code == "NoError" else "Faulted",
                error_code=None if code == "NoError" else code,
                vendor_error_code=event.tech_code,
                info=event.tech_info,
                occurred_at=utcnow(),
            )
            await on_connector_status(
                uow, reported.organization_id, reported.station_id, reported.identity, report
            )
