"""A partner's sessions, those whose last state it may lack first: indexed (its own
migration: Piccolo runs raw statements before the columns of the same migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T03:47:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "session partner index"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "charging_session_partner" '
            'ON "charging_session" ("partner", "partner_pending")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "charging_session_partner"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
