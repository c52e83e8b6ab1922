"""The charging profiles load balancing holds in force are found by index, however long the
history of those replaced."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T19:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "charging profile in-force index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "charging_profile_source_status" '
            'ON "charging_profile" ("source", "status")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "charging_profile_source_status"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
