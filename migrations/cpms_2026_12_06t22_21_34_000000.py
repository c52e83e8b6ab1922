"""One composite schedule per station and EVSE: the latest replaces the one before (its own
migration: Piccolo runs raw statements before the tables of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T22:21:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite schedule by station and EVSE"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS "composite_schedule_station_evse" '
            'ON "composite_schedule" ("station", "evse_id")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "composite_schedule_station_evse"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
