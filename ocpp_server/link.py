"""What a connection's handlers share: the station, the runtime, and payload checks."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpp.exceptions import (
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)

from app.commands import service as commands_service
from app.commands.models import CommandAction
from app.runtime import Runtime
from app.sanitize import clean_text
from app.sessions import service as sessions_service
from app.stations import service as stations_service
from app.stations.models import BootAnswer, RegistrationStatus, SigningRefusal, StationRecord
from app.unit_of_work import UnitOfWork
from ocpp_server.dry_run import DryRunSessions, DryRunStations

# A station that boots sends its BootNotification as soon as it is connected: one accepted
# before that has sent none this long after connecting is running, not booting.
BOOT_GRACE_S = 10.0
BOOTING = "booting"  # a BootNotification arrived on this connection and is being answered
# What a station whose boot was answered Pending may be sent: 1.6 and 2.0.1 allow a CSMS to
# ask it to boot again (once it is accepted) while it waits.
WHILE_PENDING = frozenset({CommandAction.TRIGGER_MESSAGE})


@dataclass
class StationLink:
    """One connected station as its handlers see it."""

    station: StationRecord
    runtime: Runtime
    protocol: str
    # app.stations.service and app.sessions.service, or their dry-run stand-ins.
    stations: Any = field(default=None)
    sessions: Any = field(default=None)
    # Readiness is per connection: the answer to a boot on it (or BOOTING), and whether the
    # station has sent anything else on it (a station that reconnects without booting).
    boot_status: str | None = None
    running: bool = False
    connected_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.runtime.settings.ocpp_dry_run:
            self.stations, self.sessions = DryRunStations(), DryRunSessions()
        else:
            self.stations, self.sessions = stations_service, sessions_service

    @property
    def undecided(self) -> bool:
        """Nothing yet on this connection says whether the station boots or runs."""
        return self.boot_status is None and not self.running

    def first_frame(self, action: str | None) -> None:
        """A call (its action) or any other frame arrived while undecided."""
        if action == "BootNotification":
            self.boot_status = BOOTING
        elif action is not None:
            self.running = True

    def ready_for(self, action: CommandAction) -> bool:
        """Whether the station may be sent this command now: after its boot on this
        connection was accepted; or, if it was accepted before and does not boot again (a
        1.6 station reconnecting), once it has sent something else or BOOT_GRACE_S passed.
        A station answered Pending may be asked to boot again."""
        if self.boot_status is not None:
            return self.boot_status == RegistrationStatus.ACCEPTED or (
                self.boot_status == RegistrationStatus.PENDING and action in WHILE_PENDING
            )
        return self.station.ready_for_commands and (
            self.running or time.monotonic() - self.connected_at >= BOOT_GRACE_S
        )

    def answered_boot(self, answer: BootAnswer) -> None:
        """Commands may follow an accepted boot; the heartbeat interval it told is the one
        this connection's silence is measured by."""
        self.boot_status = answer.status
        self.station = dataclasses.replace(
            self.station, heartbeat_interval=answer.heartbeat_interval
        )

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    async def record_transfer_status(
        self, kind: str, payload: Mapping[str, Any], missing_error: type[OCPPError]
    ) -> None:
        """Firmware (`kind` firmware) or diagnostics/log upload progress, in either version.
        Lenient: a status value from a newer firmware is stored as sent rather than refused."""
        require(payload, missing_error, "status")
        status = text(payload["status"], 32) or ""
        await self.stations.record_transfer_status(self.unit_of_work(), self.station, kind, status)
        if self.runtime.settings.ocpp_dry_run:
            return
        request_id = payload.get("request_id")
        await commands_service.record_progress(
            self.station.id,
            kind,
            as_int(request_id, "requestId") if request_id is not None else None,
            status,
        )

    async def sign_certificate(
        self, csr: str, certificate_type: str | None
    ) -> SigningRefusal | None:
        """Sign the station's certificate signing request (the certificate follows as
        CertificateSigned), or why not."""
        if self.runtime.settings.ocpp_dry_run:
            return SigningRefusal("NotSupported", "nothing is signed in a dry run")
        return await stations_service.sign_certificate(
            self.unit_of_work(), self.station, self.runtime.station_ca, csr, certificate_type
        )

    async def remote_start_token(self, remote_start_id: int) -> tuple[str, str] | None:
        """The id token (uid, type) we asked the station to start this remoteStartId with."""
        if self.runtime.settings.ocpp_dry_run:
            return None
        return await commands_service.remote_start_token(self.station.id, remote_start_id)


def require(payload: Mapping[str, Any], missing_error: type[OCPPError], *names: str) -> None:
    """Raise the version's occurrence error for the first required field that is absent.

    Lenient handlers skip the library's schema check (real chargers break enums and types),
    so they must still refuse a payload that lacks what they cannot do without."""
    for name in names:
        if payload.get(name) in (None, ""):
            raise missing_error(description=f"{name} is required", details={"field": name})


INT32_MAX = 2**31 - 1
INT63_MAX = 2**63 - 1


def as_int(value: object, name: str, minimum: int = 0, maximum: int = INT32_MAX) -> int:
    """An integer field within range; numeric strings are accepted."""
    if isinstance(value, bool):
        raise TypeConstraintViolationError(description=f"{name} must be an integer", details={})
    try:
        number = int(str(value).strip())
    except ValueError:
        raise TypeConstraintViolationError(
            description=f"{name} must be an integer", details={"field": name}
        ) from None
    if not minimum <= number <= maximum:
        raise PropertyConstraintViolationError(
            description=f"{name} must be between {minimum} and {maximum}", details={"field": name}
        )
    return number


def text(value: object, limit: int) -> str | None:
    """Optional text, cut to the column's length instead of refused."""
    return clean_text(value, limit)
