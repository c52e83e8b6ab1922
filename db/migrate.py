"""Run the migration history forwards or backwards, and detect tables that drifted from it."""

from __future__ import annotations

from itertools import chain

from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.postgres import PostgresEngine

from db.engine import APPLICATION_NAME
from db.piccolo_app import APP_CONFIG, APP_NAME


class MigrationError(Exception):
    """A migration did not complete."""


class UnknownMigration(MigrationError):
    """No migration has this id."""


async def applied_migrations() -> list[str]:
    """The ids of the migrations this database has run (none on a fresh one)."""
    if not await Migration.table_exists():
        return []
    return list(await Migration.get_migrations_which_ran(app_name=APP_NAME))


async def migrate_forwards() -> int:
    """Apply every migration not yet applied (a no-op on an up-to-date database); how many."""
    before = len(await applied_migrations())
    result = await run_forwards(app_name=APP_NAME, migration_id="all")
    if not result.success:
        raise MigrationError(result.message or "forwards migration failed")
    return len(await applied_migrations()) - before


async def migrate_backwards(migration_id: str = "all") -> int:
    """Undo migrations, newest first, up to and including `migration_id` ('all': every one);
    how many were undone."""
    applied = await applied_migrations()
    if migration_id != "all" and migration_id not in applied:
        raise UnknownMigration(
            f"no applied migration {migration_id!r}; applied: {', '.join(applied) or 'none'}"
        )
    result = await run_backwards(app_name=APP_NAME, migration_id=migration_id, auto_agree=True)
    if not result.success:
        raise MigrationError(result.message or "backwards migration failed")
    return len(applied) - len(await applied_migrations())


async def other_connections() -> int:
    """How many other sessions of the CPMS are connected to this PostgreSQL database (a
    running server); SQLite cannot tell, and answers 0."""
    if not isinstance(Migration._meta.db, PostgresEngine):
        return 0
    rows = await Migration.raw(
        "SELECT COUNT(*) AS count FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND application_name = {}",
        APPLICATION_NAME,
    )
    return int(rows[0]["count"])


async def pending_schema_changes() -> list[str]:
    """Statements a new migration would need: empty when the tables match the history."""
    manager = AutoMigrationManager(auto_input="y")
    alter_statements = await manager.get_alter_statements(app_config=APP_CONFIG)
    return list(chain.from_iterable(statements.statements for statements in alter_statements))
