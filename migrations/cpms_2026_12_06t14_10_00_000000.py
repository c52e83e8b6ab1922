"""A partial index of the command log's pending entries: the sweep that settles entries left
pending by a stopped node reads only those, however long the log."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pending command log entries index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "command_log_pending" ON "command_log" ("created_at")'
            " WHERE \"status\" = 'pending'"
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "command_log_pending"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
