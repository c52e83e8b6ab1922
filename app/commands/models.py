"""Commands in the domain's words; ocpp_server translates each to the station's version.

A configuration key is a 1.6 key (`HeartbeatInterval`) or, for 2.0.1, `Component.Variable`
(`OCPPCommCtrlr.HeartbeatInterval`); a key without a dot on 2.0.1 is looked up as is."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

# An id token issued by the CSMS itself (app users, remote starts).
CENTRAL_TOKEN = "Central"


class CommandStatus(StrEnum):
    """How a command sent to a station ended, or that it has not yet."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the station answered and said no
    FAILED = "failed"  # a CallError, or the station is not connected
    TIMEOUT = "timeout"


class CommandAction(StrEnum):
    """What a command asks of a station; the value is its stored name."""

    REMOTE_START = "remote_start"
    REMOTE_STOP = "remote_stop"
    RESET = "reset"
    UNLOCK_CONNECTOR = "unlock_connector"
    CHANGE_AVAILABILITY = "change_availability"
    TRIGGER_MESSAGE = "trigger_message"
    CLEAR_CACHE = "clear_cache"
    DATA_TRANSFER = "data_transfer"
    GET_CONFIGURATION = "get_configuration"
    CHANGE_CONFIGURATION = "change_configuration"
    UPDATE_FIRMWARE = "update_firmware"
    UPLOAD_LOGS = "upload_logs"
    RESERVE_NOW = "reserve_now"
    CANCEL_RESERVATION = "cancel_reservation"
    GET_LOCAL_LIST_VERSION = "get_local_list_version"
    SEND_LOCAL_LIST = "send_local_list"
    SET_CHARGING_PROFILE = "set_charging_profile"
    CLEAR_CHARGING_PROFILE = "clear_charging_profile"
    GET_COMPOSITE_SCHEDULE = "get_composite_schedule"
    GET_BASE_REPORT = "get_base_report"
    SET_STATION_PASSWORD = "set_station_password"
    INSTALL_CERTIFICATE = "install_certificate"
    GET_INSTALLED_CERTIFICATES = "get_installed_certificates"
    DELETE_CERTIFICATE = "delete_certificate"
    CERTIFICATE_SIGNED = "certificate_signed"

    @property
    def api_name(self) -> str:
        """As the API spells it (remoteStart), for messages a caller reads."""
        first, *rest = self.value.split("_")
        return first + "".join(word.title() for word in rest)


@dataclass(frozen=True)
class Command:
    name: ClassVar[CommandAction]
    # The field holding the id the station echoes in the messages that follow (2.0.1
    # remoteStartId, requestId): the CPMS fills it with the station's next request id.
    request_id_field: ClassVar[str | None] = None

    @property
    def echoed_id(self) -> int | None:
        """The id the station echoes back, once allocated."""
        return getattr(self, self.request_id_field) if self.request_id_field else None


@dataclass(frozen=True)
class RemoteStart(Command):
    name: ClassVar[CommandAction] = CommandAction.REMOTE_START
    id_token: str
    evse_id: int | None = None
    token_type: str = CENTRAL_TOKEN  # 2.0.1 IdTokenType
    remote_start_id: int = 0  # 2.0.1: echoed in the TransactionEvent that follows
    request_id_field: ClassVar[str | None] = "remote_start_id"


@dataclass(frozen=True)
class RemoteStop(Command):
    name: ClassVar[CommandAction] = CommandAction.REMOTE_STOP
    transaction_id: str


@dataclass(frozen=True)
class Reset(Command):
    name: ClassVar[CommandAction] = CommandAction.RESET
    hard: bool = False  # 1.6 Hard/Soft; 2.0.1 Immediate/OnIdle


@dataclass(frozen=True)
class UnlockConnector(Command):
    name: ClassVar[CommandAction] = CommandAction.UNLOCK_CONNECTOR
    evse_id: int
    connector_id: int = 1


@dataclass(frozen=True)
class ChangeAvailability(Command):
    name: ClassVar[CommandAction] = CommandAction.CHANGE_AVAILABILITY
    operative: bool
    evse_id: int = 0  # 0: the whole station


@dataclass(frozen=True)
class TriggerMessage(Command):
    name: ClassVar[CommandAction] = CommandAction.TRIGGER_MESSAGE
    message: str  # BootNotification | Heartbeat | StatusNotification | MeterValues | ...
    evse_id: int | None = None


# The messages a station can be asked to send, in each version (the log upload's progress is
# DiagnosticsStatusNotification in 1.6, LogStatusNotification in 2.0.1).
TRIGGERS_16 = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
TRIGGERS_201 = frozenset(
    {
        "BootNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "PublishFirmwareStatusNotification",
        "SignChargingStationCertificate",
        "SignCombinedCertificate",
        "SignV2GCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)


@dataclass(frozen=True)
class ClearCache(Command):
    name: ClassVar[CommandAction] = CommandAction.CLEAR_CACHE


@dataclass(frozen=True)
class DataTransfer(Command):
    name: ClassVar[CommandAction] = CommandAction.DATA_TRANSFER
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class GetConfiguration(Command):
    name: ClassVar[CommandAction] = CommandAction.GET_CONFIGURATION
    keys: tuple[str, ...] = ()  # empty: everything (1.6 only)


@dataclass(frozen=True)
class ChangeConfiguration(Command):
    name: ClassVar[CommandAction] = CommandAction.CHANGE_CONFIGURATION
    key: str
    value: str


# The heartbeat interval's key in each version; a station that accepts a new value heartbeats
# (and is answered at boot) with it from then on.
HEARTBEAT_KEYS = {"ocpp1.6": "HeartbeatInterval", "ocpp2.0.1": "OCPPCommCtrlr.HeartbeatInterval"}
# Any key that names it (a key without a component is OCPPCommCtrlr's on 2.0.1).
HEARTBEAT_KEY_NAMES = frozenset(HEARTBEAT_KEYS.values())


def heartbeat_key(protocol: str | None) -> str:
    """The heartbeat interval's configuration key for a station of this OCPP version."""
    return HEARTBEAT_KEYS.get(protocol or "", HEARTBEAT_KEYS["ocpp1.6"])


# The station's HTTP Basic password, in either version: write-only, changed only through
# SetStationPassword, which keeps it out of every log and keeps our hash in step.
PASSWORD_KEYS = frozenset(
    {"AuthorizationKey", "SecurityCtrlr.BasicAuthPassword", "BasicAuthPassword"}
)
SECRET_MASK = "(secret)"


@dataclass(frozen=True)
class SetStationPassword(Command):
    """1.6 ChangeConfiguration AuthorizationKey, 2.0.1 SetVariables
    SecurityCtrlr.BasicAuthPassword."""

    name: ClassVar[CommandAction] = CommandAction.SET_STATION_PASSWORD
    password: str


@dataclass(frozen=True)
class UpdateFirmware(Command):
    name: ClassVar[CommandAction] = CommandAction.UPDATE_FIRMWARE
    location: str
    retrieve_at: str  # ISO 8601
    retries: int | None = None
    retry_interval_s: int | None = None
    request_id: int = 0  # 2.0.1: echoed in FirmwareStatusNotification
    request_id_field: ClassVar[str | None] = "request_id"


@dataclass(frozen=True)
class UploadLogs(Command):
    """1.6 GetDiagnostics, 2.0.1 GetLog of the diagnostics log."""

    name: ClassVar[CommandAction] = CommandAction.UPLOAD_LOGS
    location: str
    start: str | None = None  # ISO 8601
    stop: str | None = None
    request_id: int = 0  # 2.0.1: echoed in LogStatusNotification
    request_id_field: ClassVar[str | None] = "request_id"


@dataclass(frozen=True)
class ReserveNow(Command):
    name: ClassVar[CommandAction] = CommandAction.RESERVE_NOW
    evse_id: int
    id_token: str
    expires_at: str  # ISO 8601
    token_type: str = CENTRAL_TOKEN  # 2.0.1 IdTokenType
    # The station's next request id, like every id it echoes; an id it holds a reservation
    # under replaces that reservation.
    reservation_id: int = 0
    request_id_field: ClassVar[str | None] = "reservation_id"


@dataclass(frozen=True)
class CancelReservation(Command):
    name: ClassVar[CommandAction] = CommandAction.CANCEL_RESERVATION
    reservation_id: int


@dataclass(frozen=True)
class GetLocalListVersion(Command):
    name: ClassVar[CommandAction] = CommandAction.GET_LOCAL_LIST_VERSION


@dataclass(frozen=True)
class SendLocalList(Command):
    name: ClassVar[CommandAction] = CommandAction.SEND_LOCAL_LIST
    version: int
    full: bool  # False: a differential update
    # (id token, authorization status); no status: a differential update removes the token.
    entries: tuple[tuple[str, str | None], ...] = ()
    token_types: tuple[tuple[str, str], ...] = ()  # (id token, its 2.0.1 IdTokenType)


@dataclass(frozen=True)
class SetChargingProfile(Command):
    name: ClassVar[CommandAction] = CommandAction.SET_CHARGING_PROFILE
    evse_id: int
    profile: dict[str, Any]  # the OCPP 1.6 ChargingProfile, snake_case keys


@dataclass(frozen=True)
class ClearChargingProfile(Command):
    name: ClassVar[CommandAction] = CommandAction.CLEAR_CHARGING_PROFILE
    profile_id: int | None = None
    evse_id: int | None = None
    purpose: str | None = None  # 1.6 ChargingProfilePurposeType
    stack_level: int | None = None


@dataclass(frozen=True)
class GetCompositeSchedule(Command):
    name: ClassVar[CommandAction] = CommandAction.GET_COMPOSITE_SCHEDULE
    evse_id: int
    duration_s: int
    rate_unit: str | None = None  # A | W


@dataclass(frozen=True)
class GetBaseReport(Command):
    """2.0.1 only: the station reports its device model in NotifyReport messages."""

    name: ClassVar[CommandAction] = CommandAction.GET_BASE_REPORT
    report_base: str = "FullInventory"  # | ConfigurationInventory | SummaryInventory
    request_id: int = 0  # echoed in every NotifyReport of the report
    request_id_field: ClassVar[str | None] = "request_id"


class CertificateUse(StrEnum):
    """What a certificate on a station is for: 2.0.1 GetCertificateIdUseEnumType (all but
    the V2G chain can be installed)."""

    CSMS_ROOT_CERTIFICATE = "CSMSRootCertificate"
    MANUFACTURER_ROOT_CERTIFICATE = "ManufacturerRootCertificate"
    MO_ROOT_CERTIFICATE = "MORootCertificate"
    V2G_ROOT_CERTIFICATE = "V2GRootCertificate"
    V2G_CERTIFICATE_CHAIN = "V2GCertificateChain"


@dataclass(frozen=True)
class InstallCertificate(Command):
    """A root certificate the station is to trust (2.0.1 InstallCertificate; 1.6 with the
    security extension)."""

    name: ClassVar[CommandAction] = CommandAction.INSTALL_CERTIFICATE
    certificate_type: str  # 2.0.1 InstallCertificateUseEnumType
    certificate: str  # PEM


@dataclass(frozen=True)
class GetInstalledCertificates(Command):
    """2.0.1 GetInstalledCertificateIds (1.6: one type at a time)."""

    name: ClassVar[CommandAction] = CommandAction.GET_INSTALLED_CERTIFICATES
    certificate_types: tuple[str, ...] = ()  # 2.0.1 GetCertificateIdUseEnumType; (): all


@dataclass(frozen=True)
class DeleteCertificate(Command):
    """An installed certificate, named by its hash data as GetInstalledCertificates gave it."""

    name: ClassVar[CommandAction] = CommandAction.DELETE_CERTIFICATE
    hash_algorithm: str  # SHA256 | SHA384 | SHA512
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def hash_data(self) -> dict[str, str]:
        return {
            "hash_algorithm": self.hash_algorithm,
            "issuer_name_hash": self.issuer_name_hash,
            "issuer_key_hash": self.issuer_key_hash,
            "serial_number": self.serial_number,
        }


@dataclass(frozen=True)
class CertificateSigned(Command):
    """The certificate our CA signed for the station's request (2.0.1 CertificateSigned;
    1.6 with the security extension): the station's own first, then the CA's (PEM)."""

    name: ClassVar[CommandAction] = CommandAction.CERTIFICATE_SIGNED
    certificate_chain: str
    certificate_type: str | None = None  # 2.0.1 CertificateSigningUseEnumType


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
    request_id: int | None = None  # the id the station echoes (remoteStartId, requestId)
    progress: str | None = None  # the latest status it reported for this request
    progress_at: datetime | None = None


@dataclass(frozen=True)
class CommandResult:
    """The station's answer: its status word and whatever else it said."""

    status: str
    data: dict[str, Any] = field(default_factory=dict)
    request_id: int | None = None  # the id the station echoes in what follows, if any

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
        SetStationPassword,
        InstallCertificate,
        GetInstalledCertificates,
        DeleteCertificate,
        CertificateSigned,
    )
}


def secrets_of(command: Command) -> tuple[str, ...]:
    """Values a command carries that no log may keep."""
    return (command.password,) if isinstance(command, SetStationPassword) else ()


def logged_fields(command: Command) -> dict[str, Any]:
    """The command's fields as the command log keeps them: secrets masked."""
    fields = dataclasses.asdict(command)
    if isinstance(command, SetStationPassword):
        fields["password"] = SECRET_MASK
    return fields


def encode_command(command: Command) -> dict[str, Any]:
    """A JSON-able form, to hand a command to another node."""
    return {"name": command.name, "fields": dataclasses.asdict(command)}


def decode_command(encoded: dict[str, Any]) -> Command:
    command_type = COMMAND_TYPES[encoded["name"]]
    fields = dict(encoded["fields"])
    if command_type is GetConfiguration:
        fields["keys"] = tuple(fields.get("keys", ()))
    if command_type is GetInstalledCertificates:
        fields["certificate_types"] = tuple(fields.get("certificate_types", ()))
    if command_type is SendLocalList:
        for name in ("entries", "token_types"):
            fields[name] = tuple(tuple(entry) for entry in fields.get(name, ()))
    return command_type(**fields)
