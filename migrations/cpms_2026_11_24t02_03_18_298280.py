from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def _drop_index() -> None:
    # SQLite cannot drop a column that an index still names.
    await RawTable.raw('DROP INDEX IF EXISTS "payment_id_token"')


class IdToken(Table, tablename="id_token", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-11-24T02:03:18:298280"
VERSION = "1.38.0"
DESCRIPTION = "ad hoc payments keep their id token"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Payment",
        tablename="payment",
        column_name="id_token",
        db_column_name="id_token",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": IdToken,
            "on_delete": OnDelete.set_null,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_raw_backwards(_drop_index)

    return manager
