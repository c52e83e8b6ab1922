import pytest
from piccolo.columns import Varchar
from piccolo.engine.postgres import PostgresEngine

from db.engine import configured_engine
from db.migrate import migrate_backwards, migrate_forwards, pending_schema_changes
from db.tables import INDEXES, TABLES, ChargingStation
from tests.conftest import quietly


async def catalog_names(kind: str) -> set[str]:
    """Names of the tables or indexes ('table' | 'index') in the test database."""
    engine = configured_engine()
    if isinstance(engine, PostgresEngine):
        catalog, column = (
            ("pg_tables", "tablename") if kind == "table" else ("pg_indexes", "indexname")
        )
        rows = await engine.run_ddl(
            f"SELECT {column} AS name FROM {catalog} WHERE schemaname = current_schema()"
        )
    else:
        rows = await engine.run_ddl(f"SELECT name FROM sqlite_master WHERE type = '{kind}'")
    return {row["name"] for row in rows}


async def existing_tables() -> set[str]:
    return await catalog_names("table")


async def existing_indexes() -> set[str]:
    return await catalog_names("index")


async def test_every_table_matches_the_migration_history(database):
    assert await pending_schema_changes() == []


async def test_a_table_change_without_migration_is_detected(database, monkeypatch):
    column = Varchar(length=10, null=True, default=None)
    column._meta.name = "nickname"
    column._meta._table = ChargingStation
    monkeypatch.setattr(ChargingStation._meta, "columns", [*ChargingStation._meta.columns, column])
    monkeypatch.setattr(
        ChargingStation._meta,
        "non_default_columns",
        [*ChargingStation._meta.non_default_columns, column],
    )
    changes = await pending_schema_changes()
    assert any("nickname" in change for change in changes)


async def test_history_runs_backwards_and_forwards(database):
    names = {table._meta.tablename for table in TABLES}
    assert names <= await existing_tables()
    assert {index.name for index in INDEXES} <= await existing_indexes()
    try:
        await quietly(migrate_backwards)
        assert not names & await existing_tables()
        assert not {index.name for index in INDEXES} & await existing_indexes()
    finally:
        await quietly(migrate_forwards)
    assert names <= await existing_tables()
    assert {index.name for index in INDEXES} <= await existing_indexes()


async def test_forwards_twice_is_a_no_op(database):
    before = await existing_indexes()
    await quietly(migrate_forwards)
    assert await existing_indexes() == before


@pytest.mark.parametrize("index", INDEXES, ids=lambda index: index.name)
def test_indexes_name_real_columns(index):
    column_names = {column._meta.db_column_name for column in index.table._meta.columns}
    assert set(index.columns) <= column_names
