"""Why a command could not get an answer from a station."""

from __future__ import annotations

from app.errors import CPMSError, InvalidInput


class StationOffline(CPMSError):
    code = "station_offline"


class StationNotReady(CPMSError):
    """Connected but not (yet) accepted by BootNotification: commands would upset firmware."""

    code = "station_not_ready"


class BusUnavailable(CPMSError):
    """The station is held by another node, and the nodes cannot reach each other (Redis is
    unavailable); nothing was sent."""

    code = "bus_unavailable"


class CommandInterrupted(CPMSError):
    """No answer was recorded: the node sending the command stopped, or a fault ended it."""

    code = "interrupted"


class CommandTimeout(CPMSError):
    code = "timeout"


class CommandFailed(CPMSError):
    """The station answered with a CallError (e.g. NotImplemented)."""

    code = "call_error"


class CommandNotSupported(CPMSError):
    """The station's OCPP version has no such command."""

    code = "not_supported"


ERRORS_BY_CODE: dict[str, type[CPMSError]] = {
    error.code: error
    for error in (
        StationOffline,
        StationNotReady,
        BusUnavailable,
        CommandTimeout,
        CommandFailed,
        CommandNotSupported,
        InvalidInput,
    )
}
