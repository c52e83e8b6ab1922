"""The port through which the domain talks to chargers; ocpp_server implements it."""

from __future__ import annotations

from typing import Protocol

from app.commands.models import Command, CommandResult


class ChargerGateway(Protocol):
    async def send(self, identity: str, command: Command) -> CommandResult:
        """Deliver a command to the station wherever it is connected and return its answer.

        Raises StationOffline, StationNotReady, BusUnavailable, CommandTimeout, CommandFailed
        or CommandNotSupported."""
        ...
