"""What a connection's handlers share: the station, the runtime, and payload checks."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpp.exceptions import (
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)

from app.runtime import Runtime
from app.sanitize import clean_text
from app.sessions import service as sessions_service
from app.stations import service as stations_service
from app.stations.models import StationRecord
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

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    async def record_transfer_status(
        self, kind: str, payload: Mapping[str, Any], missing_error: type[OCPPError]
    ) -> None:
        """Firmware (`kind` firmware) or diagnostics/log upload progress, in either version.
        Lenient: a status value from a newer firmware is stored as sent rather than refused."""
        require(payload, missing_error, "status")
        await self.stations.record_transfer_status(
            self.unit_of_work(), self.station, kind, text(payload["status"], 32)
        )


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


def cache_handler_signatures(route_map: dict[str, dict[str, Any]]) -> None:
    """The ocpp library inspects each handler's signature on every call (~10% of the CPU per
    message, measured); give each handler a precomputed `__signature__` instead."""
    for handlers in route_map.values():
        for key in ("_on_action", "_after_action"):
            handler = handlers.get(key)
            if handler is not None:
                handlers[key] = _with_signature(handler)


# Signatures by handler function: the same for every connection of a class, so inspecting
# them once per process, not once per connection, keeps a reconnect storm cheaper.
_SIGNATURES: dict[Any, inspect.Signature] = {}


def _with_signature(handler: Any) -> Any:
    function = getattr(handler, "__func__", handler)
    signature = _SIGNATURES.get(function)
    if signature is None:
        signature = _SIGNATURES[function] = inspect.signature(handler)

    def call(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__name__ = getattr(handler, "__name__", "handler")
    return call
