"""Commands in the domain's words; ocpp_server translates each to the station's version.

A configuration key is a 1.6 key (`HeartbeatInterval`) or, for 2.0.1, `Component.Variable`
(`OCPPCommCtrlr.HeartbeatInterval`); a key without a dot on 2.0.1 is looked up as is."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

# An id token issued by the CSMS itself (app users, remote starts).
CENTRAL_TOKEN = "Central"


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]


@dataclass(frozen=True)
class RemoteStart(Command):
    name: ClassVar[str] = "remote_start"
    id_token: str
    evse_id: int | None = None
    token_type: str = CENTRAL_TOKEN  # 2.0.1 IdTokenType
    remote_start_id: int = 0  # 2.0.1: echoed in the TransactionEvent that follows


@dataclass(frozen=True)
class RemoteStop(Command):
    name: ClassVar[str] = "remote_stop"
    transaction_id: str


@dataclass(frozen=True)
class Reset(Command):
    name: ClassVar[str] = "reset"
    hard: bool = False  # 1.6 Hard/Soft; 2.0.1 Immediate/OnIdle


@dataclass(frozen=True)
class UnlockConnector(Command):
    name: ClassVar[str] = "unlock_connector"
    evse_id: int
    connector_id: int = 1


@dataclass(frozen=True)
class ChangeAvailability(Command):
    name: ClassVar[str] = "change_availability"
    operative: bool
    evse_id: int = 0  # 0: the whole station


@dataclass(frozen=True)
class TriggerMessage(Command):
    name: ClassVar[str] = "trigger_message"
    message: str  # BootNotification | Heartbeat | StatusNotification | MeterValues | ...
    evse_id: int | None = None


@dataclass(frozen=True)
class ClearCache(Command):
    name: ClassVar[str] = "clear_cache"


@dataclass(frozen=True)
class DataTransfer(Command):
    name: ClassVar[str] = "data_transfer"
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class GetConfiguration(Command):
    name: ClassVar[str] = "get_configuration"
    keys: tuple[str, ...] = ()  # empty: everything (1.6 only)


@dataclass(frozen=True)
class ChangeConfiguration(Command):
    name: ClassVar[str] = "change_configuration"
    key: str
    value: str


@dataclass(frozen=True)
class UpdateFirmware(Command):
    name: ClassVar[str] = "update_firmware"
    location: str
    retrieve_at: str  # ISO 8601
    retries: int | None = None
    retry_interval_s: int | None = None
    request_id: int = 0  # 2.0.1: echoed in FirmwareStatusNotification


@dataclass(frozen=True)
class UploadLogs(Command):
    """1.6 GetDiagnostics, 2.0.1 GetLog of the diagnostics log."""

    name: ClassVar[str] = "upload_logs"
    location: str
    start: str | None = None  # ISO 8601
    stop: str | None = None
    request_id: int = 0  # 2.0.1: echoed in LogStatusNotification


@dataclass(frozen=True)
class ReserveNow(Command):
    name: ClassVar[str] = "reserve_now"
    reservation_id: int
    evse_id: int
    id_token: str
    expires_at: str  # ISO 8601
    token_type: str = CENTRAL_TOKEN  # 2.0.1 IdTokenType


@dataclass(frozen=True)
class CancelReservation(Command):
    name: ClassVar[str] = "cancel_reservation"
    reservation_id: int


@dataclass(frozen=True)
class GetLocalListVersion(Command):
    name: ClassVar[str] = "get_local_list_version"


@dataclass(frozen=True)
class SendLocalList(Command):
    name: ClassVar[str] = "send_local_list"
    version: int
    full: bool  # False: a differential update
    entries: tuple[tuple[str, str], ...] = ()  # (id token, authorization status)
    token_types: tuple[tuple[str, str], ...] = ()  # (id token, its 2.0.1 IdTokenType)


@dataclass(frozen=True)
class SetChargingProfile(Command):
    name: ClassVar[str] = "set_charging_profile"
    evse_id: int
    profile: dict[str, Any]  # the OCPP 1.6 ChargingProfile, snake_case keys


@dataclass(frozen=True)
class ClearChargingProfile(Command):
    name: ClassVar[str] = "clear_charging_profile"
    profile_id: int | None = None
    evse_id: int | None = None
    purpose: str | None = None  # 1.6 ChargingProfilePurposeType
    stack_level: int | None = None


@dataclass(frozen=True)
class GetCompositeSchedule(Command):
    name: ClassVar[str] = "get_composite_schedule"
    evse_id: int
    duration_s: int
    rate_unit: str | None = None  # A | W


@dataclass(frozen=True)
class GetBaseReport(Command):
    """2.0.1 only: the station reports its device model in NotifyReport messages."""

    name: ClassVar[str] = "get_base_report"
    request_id: int
    report_base: str = "FullInventory"  # | ConfigurationInventory | SummaryInventory


# Answers that mean "done": Unlocked (UnlockConnector), RebootRequired (a configuration change
# that takes effect after a reboot), Scheduled (2.0.1 availability change once idle).
SUCCESS_STATUSES = frozenset({"Accepted", "Unlocked", "RebootRequired", "Scheduled"})


@dataclass(frozen=True, slots=True)
class CommandLogEntry:
    """A command sent to a station: who, what, and how it ended."""

    id: int
    station_id: int
    action: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    status: str  # pending | accepted | rejected | failed | timeout
    error_code: str | None
    error_message: str | None
    actor: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class CommandResult:
    """The station's answer: its status word and whatever else it said."""

    status: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """The station did (or will do) what was asked."""
        return self.status in SUCCESS_STATUSES


COMMAND_TYPES: dict[str, type[Command]] = {
    command_type.name: command_type
    for command_type in (
        RemoteStart,
        RemoteStop,
        Reset,
        UnlockConnector,
        ChangeAvailability,
        TriggerMessage,
        ClearCache,
        DataTransfer,
        GetConfiguration,
        ChangeConfiguration,
        UpdateFirmware,
        UploadLogs,
        ReserveNow,
        CancelReservation,
        GetLocalListVersion,
        SendLocalList,
        SetChargingProfile,
        ClearChargingProfile,
        GetCompositeSchedule,
        GetBaseReport,
    )
}


def encode_command(command: Command) -> dict[str, Any]:
    """A JSON-able form, to hand a command to another node."""
    return {"name": command.name, "fields": dataclasses.asdict(command)}


def decode_command(encoded: dict[str, Any]) -> Command:
    command_type = COMMAND_TYPES[encoded["name"]]
    fields = dict(encoded["fields"])
    if command_type is GetConfiguration:
        fields["keys"] = tuple(fields.get("keys", ()))
    if command_type is SendLocalList:
        for name in ("entries", "token_types"):
            fields[name] = tuple(tuple(entry) for entry in fields.get(name, ()))
    return command_type(**fields)
