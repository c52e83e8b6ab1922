"""A hub tells about each party once: its parties are unique per hub (their own migration:
Piccolo runs raw statements before the tables of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T04:26:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "hub party index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS "hub_party_key" '
            'ON "hub_party" ("partner", "country_code", "party_id")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "hub_party_key"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
