"""Indexes for dashboard figures: each grouped count or sum reads an index, not the table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dashboard indexes"

# (name, table, columns): a frozen copy, so later edits of db/tables.py don't rewrite history.
ADDED = [
    ("charging_station_org_connected_status", "charging_station", ("organization", "connected", "status")),
    ("connector_station_status", "connector", ("station", "status")),
    ("charging_session_org_started_energy", "charging_session", ("organization", "started_at", "energy_wh")),
    ("cdr_org_ended_amount", "cdr", ("organization", "ended_at", "currency", "total_cost_incl_vat_minor")),
]
# Superseded: its columns lead the first index above.
DROPPED = [("charging_station_org_connected", "charging_station", ("organization", "connected"))]


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def _create(indexes: list[tuple[str, str, tuple[str, ...]]]) -> None:
    for name, table, columns in indexes:
        column_list = ", ".join(f'"{column}"' for column in columns)
        await RawTable.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


async def _drop(indexes: list[tuple[str, str, tuple[str, ...]]]) -> None:
    for name, _table, _columns in indexes:
        await RawTable.raw(f'DROP INDEX IF EXISTS "{name}"')


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        await _create(ADDED)
        await _drop(DROPPED)

    async def undo() -> None:
        await _create(DROPPED)
        await _drop(ADDED)

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
