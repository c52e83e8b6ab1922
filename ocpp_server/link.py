"""What a connection's handlers share: the station, the runtime, and payload checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpp.exceptions import (
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)

from app.auth.models import ACCEPTED
from app.commands import service as commands_service
from app.runtime import Runtime
from app.sanitize import clean_text
from app.sessions import service as sessions_service
from app.stations import service as stations_service
from app.stations.models import BootAnswer, StationRecord
from app.unit_of_work import UnitOfWork
from ocpp_server.dry_run import DryRunSessions, DryRunStations


@dataclass
class StationLink:
    """One connected station as its handlers see it."""

    station: StationRecord
    runtime: Runtime
    protocol: str
    boot_accepted: bool = False
    # app.stations.service and app.sessions.service, or their dry-run stand-ins.
    stations: Any = field(default=None)
    sessions: Any = field(default=None)

    def __post_init__(self) -> None:
        self.boot_accepted = self.station.ready_for_commands
        if self.runtime.settings.ocpp_dry_run:
            self.stations, self.sessions = DryRunStations(), DryRunSessions()
        else:
            self.stations, self.sessions = stations_service, sessions_service

    def answered_boot(self, answer: BootAnswer) -> None:
        """Commands may follow an accepted boot; the heartbeat interval it told is the one
        this connection's silence is measured by."""
        self.boot_accepted = answer.status == ACCEPTED
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
