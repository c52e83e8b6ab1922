"""Run the migration history forwards or backwards, and detect tables that drifted from it."""

from __future__ import annotations

from itertools import chain

from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from db.piccolo_app import APP_CONFIG, APP_NAME


class MigrationError(Exception):
    """A migration did not complete."""


async def migrate_forwards() -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database)."""
    result = await run_forwards(app_name=APP_NAME, migration_id="all")
    if not result.success:
        raise MigrationError(result.message or "forwards migration failed")


async def migrate_backwards(migration_id: str = "all") -> None:
    """Undo migrations, newest first, up to and including `migration_id` ('all': every one)."""
    result = await run_backwards(app_name=APP_NAME, migration_id=migration_id, auto_agree=True)
    if not result.success:
        raise MigrationError(result.message or "backwards migration failed")


async def pending_schema_changes() -> list[str]:
    """Statements a new migration would need: empty when the tables match the history."""
    manager = AutoMigrationManager(auto_input="y")
    alter_statements = await manager.get_alter_statements(app_config=APP_CONFIG)
    return list(chain.from_iterable(statements.statements for statements in alter_statements))
