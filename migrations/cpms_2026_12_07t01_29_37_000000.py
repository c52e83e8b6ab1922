"""A partner's every OCPI request is authenticated by its token's digest: both digests are
indexed (their own migration: Piccolo runs raw statements before the columns of the same
migration exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T01:29:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "partner token indexes"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "partner_incoming_token" '
            'ON "partner" ("incoming_token_hash")'
        )
        await RawTable.raw(
            'CREATE INDEX IF NOT EXISTS "partner_registration_token" '
            'ON "partner" ("registration_token_hash")'
        )

    async def undo() -> None:
        await RawTable.raw('DROP INDEX IF EXISTS "partner_registration_token"')
        await RawTable.raw('DROP INDEX IF EXISTS "partner_incoming_token"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
