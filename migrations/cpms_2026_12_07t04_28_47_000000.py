"""Sites that changed since a partner was last sent its Locations are found by index (their
own migration: Piccolo runs raw statements before the columns of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T04:28:47:000000"
VERSION = "1.38.0"
DESCRIPTION = "site change indexes"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "site_org_updated" ON "site" ("organization", "updated_at")'
        )
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "site_org_created" ON "site" ("organization", "created_at")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "site_org_created"')
        await RawTable.raw('DROP INDEX IF EXISTS "site_org_updated"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
