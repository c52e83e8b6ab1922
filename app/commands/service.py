"""Use case: send a command to a station, and keep a record of who sent what and the answer."""

from __future__ import annotations

from app.commands import repository
from app.commands.errors import StationOffline
from app.commands.gateway import ChargerGateway
from app.commands.models import Command, CommandResult, encode_command
from app.errors import CPMSError
from app.stations import service as stations


async def send_command(
    gateway: ChargerGateway, identity: str, command: Command, actor: str = "system"
) -> CommandResult:
    """Send a command through the gateway; the command log holds the request and the outcome.

    The log entry is written before sending, so a crash mid-command still leaves a trace."""
    station = await stations.get_station_record(identity)
    if station is None:
        raise StationOffline(f"no station {identity!r}")
    entry_id = await repository.log_request(
        station.organization_id, station.id, command.name, encode_command(command)["fields"], actor
    )
    try:
        result = await gateway.send(identity, command)
    except CPMSError as error:
        status = "timeout" if error.code == "timeout" else "failed"
        await repository.log_outcome(entry_id, status, None, error.code, error.message)
        raise
    await repository.log_outcome(
        entry_id,
        "accepted" if result.accepted else "rejected",
        {"status": result.status, **result.data},
    )
    return result
