"""What a command may carry, checked before anything is logged or sent: OCPP's own limits (the
stricter of 1.6 and 2.0.1 where they differ), so a bad input is the caller's InvalidInput
naming the API's field, never a station's FormatViolation for a frame that was not sent."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from app.commands.models import (
    HEARTBEAT_KEY_NAMES,
    TRIGGERS_16,
    TRIGGERS_201,
    CertificateSigned,
    ChangeAvailability,
    ChangeConfiguration,
    ClearChargingProfile,
    Command,
    DataTransfer,
    DeleteCertificate,
    GetBaseReport,
    GetCompositeSchedule,
    GetConfiguration,
    GetInstalledCertificates,
    InstallCertificate,
    RemoteStart,
    ReserveNow,
    SendLocalList,
    SetChargingProfile,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
    UploadLogs,
)
from app.errors import InvalidInput
from app.heartbeat import checked_interval
from app.timeparse import utcnow

# A version without the message answers that it does not support it.
TRIGGERS = TRIGGERS_16 | TRIGGERS_201
REPORT_BASES = frozenset({"ConfigurationInventory", "FullInventory", "SummaryInventory"})
# 1.6 ChargingProfilePurposeType; 2.0.1 names the first ChargingStationMaxProfile.
PURPOSES = frozenset(
    {"ChargePointMaxProfile", "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"}
)
PROFILE_KINDS = frozenset({"Absolute", "Recurring", "Relative"})
RATE_UNITS = frozenset({"A", "W"})
TOKEN_STATUSES = frozenset(
    {
        "Accepted",
        "Blocked",
        "ConcurrentTx",
        "Expired",
        "Invalid",
        "NoCredit",
        "NotAllowedTypeEVSE",
        "NotAtThisLocation",
        "NotAtThisTime",
        "Unknown",
    }
)
# 2.0.1 InstallCertificateUseEnumType and GetCertificateIdUseEnumType (1.6 knows the CSMS's
# and the manufacturer's root certificates only).
INSTALLABLE = frozenset(
    {
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
        "MORootCertificate",
        "V2GRootCertificate",
    }
)
LISTABLE = INSTALLABLE | {"V2GCertificateChain"}
HASH_ALGORITHMS = frozenset({"SHA256", "SHA384", "SHA512"})
CERTIFICATE_LENGTH = 5500  # 2.0.1 InstallCertificate certificate
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
CHAIN_LENGTH = 10_000  # CertificateSigned certificateChain, both versions
KEY_LENGTH = 50  # 1.6 CiString50 key; a 2.0.1 component or variable name
VALUE_LENGTH = 500  # 1.6 CiString500 (2.0.1 allows 1000)
URL_LENGTH = 512  # 2.0.1 firmware location and log remoteLocation
VENDOR_ID_LENGTH = 255
MESSAGE_ID_LENGTH = 50
ID_TOKEN_LENGTH = 36  # 2.0.1 IdToken (1.6 idTag: 20, checked when it is sent)


def check(command: Command) -> None:
    """InvalidInput, naming the first field that no station may be sent."""
    match command:
        case RemoteStart():
            _id_token(command.id_token, "idToken")
            _at_least(command.evse_id, 1, "evseId")
        case UnlockConnector():
            _at_least(command.evse_id, 1, "evseId")
            _at_least(command.connector_id, 1, "connectorId")
        case ChangeAvailability():
            _at_least(command.evse_id, 0, "evseId")
        case TriggerMessage():
            _one_of(command.message, TRIGGERS, "message")
            _at_least(command.evse_id, 0, "evseId")
        case DataTransfer():
            _text(command.vendor_id, VENDOR_ID_LENGTH, "vendorId")
            if command.message_id is not None:
                _text(command.message_id, MESSAGE_ID_LENGTH, "messageId")
        case GetConfiguration():
            for key in command.keys:
                _key(key, "keys")
        case ChangeConfiguration():
            _key(command.key, "key")
            if len(command.value) > VALUE_LENGTH:
                raise InvalidInput(f"value: at most {VALUE_LENGTH} characters")
            if command.key in HEARTBEAT_KEY_NAMES:
                if not command.value.strip().isdigit():
                    raise InvalidInput("value: a heartbeat interval is a whole number of seconds")
                checked_interval(int(command.value), "value")
        case UpdateFirmware():
            _url(command.location, "location")
        case UploadLogs():
            _url(command.location, "location")
            if command.start and command.stop and command.start > command.stop:
                raise InvalidInput("start: not after stop")
        case ReserveNow():
            _id_token(command.id_token, "idToken")
            _at_least(command.evse_id, 0, "evseId")
            if datetime.fromisoformat(command.expires_at) <= utcnow():
                raise InvalidInput("expiresAt: in the future")
        case SendLocalList():
            for uid, status in command.entries:
                _id_token(uid, "entries.idToken")
                if status is not None or command.full:  # only a differential update removes
                    _one_of(status, TOKEN_STATUSES, "entries.status")
        case SetChargingProfile():
            _at_least(command.evse_id, 0, "evseId")
            _profile(command.profile)
        case ClearChargingProfile():
            _at_least(command.evse_id, 0, "evseId")
            _at_least(command.stack_level, 0, "stackLevel")
            if command.purpose is not None:
                _one_of(command.purpose, PURPOSES, "purpose")
        case GetCompositeSchedule():
            _at_least(command.evse_id, 0, "evseId")
            _at_least(command.duration_s, 1, "durationS")
            if command.rate_unit is not None:
                _one_of(command.rate_unit, RATE_UNITS, "rateUnit")
        case GetBaseReport():
            _one_of(command.report_base, REPORT_BASES, "reportBase")
        case InstallCertificate():
            _one_of(command.certificate_type, INSTALLABLE, "certificateType")
            if len(command.certificate) > CERTIFICATE_LENGTH or PEM_CERTIFICATE not in (
                command.certificate
            ):
                raise InvalidInput(
                    f"certificate: one PEM certificate of at most {CERTIFICATE_LENGTH} characters"
                )
        case GetInstalledCertificates():
            for certificate_type in command.certificate_types:
                _one_of(certificate_type, LISTABLE, "certificateTypes")
        case CertificateSigned():
            chain = command.certificate_chain
            if len(chain) > CHAIN_LENGTH or PEM_CERTIFICATE not in chain:
                raise InvalidInput(
                    f"certificateChain: PEM certificates, at most {CHAIN_LENGTH} characters"
                )
        case DeleteCertificate():
            _one_of(command.hash_algorithm, HASH_ALGORITHMS, "hashAlgorithm")
            _text(command.issuer_name_hash, 128, "issuerNameHash")
            _text(command.issuer_key_hash, 128, "issuerKeyHash")
            _text(command.serial_number, 40, "serialNumber")


def _profile(profile: dict[str, object]) -> None:
    """The parts of a (1.6, snake_case) ChargingProfile a station would refuse."""
    _one_of(profile.get("charging_profile_purpose"), PURPOSES, "profile.chargingProfilePurpose")
    _one_of(profile.get("charging_profile_kind"), PROFILE_KINDS, "profile.chargingProfileKind")
    for name, field in (
        ("charging_profile_id", "profile.chargingProfileId"),
        ("stack_level", "profile.stackLevel"),
    ):
        value = profile.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"{field}: a whole number")
        _at_least(value, 0, field)
    schedule = profile.get("charging_schedule")
    if not isinstance(schedule, dict):
        raise InvalidInput("profile.chargingSchedule: an object")
    _one_of(
        schedule.get("charging_rate_unit"), RATE_UNITS, "profile.chargingSchedule.chargingRateUnit"
    )
    periods = schedule.get("charging_schedule_period")
    if not isinstance(periods, list) or not periods:
        raise InvalidInput("profile.chargingSchedule.chargingSchedulePeriod: at least one period")


def _at_least(value: int | None, minimum: int, field: str) -> None:
    if value is not None and value < minimum:
        raise InvalidInput(f"{field}: at least {minimum}")


def _one_of(value: object, allowed: frozenset[str], field: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"{field}: one of {', '.join(sorted(allowed))}")


def _text(value: str, limit: int, field: str) -> None:
    if not value.strip() or len(value) > limit:
        raise InvalidInput(f"{field}: 1 to {limit} characters")


def _id_token(value: str, field: str) -> None:
    _text(value, ID_TOKEN_LENGTH, field)


def _key(key: str, field: str) -> None:
    """A 1.6 key, or a 2.0.1 Component.Variable whose parts each fit."""
    if not key.strip() or any(len(part) > KEY_LENGTH for part in key.rsplit(".", 1)):
        raise InvalidInput(
            f"{field}: 1 to {KEY_LENGTH} characters (each part of Component.Variable)"
        )


def _url(url: str, field: str) -> None:
    if len(url) > URL_LENGTH:
        raise InvalidInput(f"{field}: at most {URL_LENGTH} characters")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise InvalidInput(f"{field}: an absolute URL, e.g. https://files.example/diagnostics")
