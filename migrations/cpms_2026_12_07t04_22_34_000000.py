"""A partner's reservations are found by its own reservation id: indexed (its own migration:
Piccolo runs raw statements before the columns of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T04:22:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "reservation partner reference index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "reservation_partner_reference" '
            'ON "reservation" ("partner", "partner_reference")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "reservation_partner_reference"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
