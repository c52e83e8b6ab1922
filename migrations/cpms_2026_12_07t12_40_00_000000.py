"""A partner's tokens by when they last changed, for stations' local lists: indexed (its own
migration: Piccolo runs raw statements before the columns of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "id token partner change index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "id_token_partner_changed" '
            'ON "id_token" ("partner", "changed_at")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "id_token_partner_changed"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
