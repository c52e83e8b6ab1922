"""An index that finds a station's command by the request id the station echoes (its own
migration: Piccolo runs raw statements before the columns of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T21:13:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "command log by station and request id"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "command_log_station_request" '
            'ON "command_log" ("station", "request_id")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "command_log_station_request"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
