from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T03:47:34:194365"
VERSION = "1.38.0"
DESCRIPTION = "session partner push"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ChargingSession",
        tablename="charging_session",
        column_name="partner_pending",
        db_column_name="partner_pending",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ChargingSession",
        tablename="charging_session",
        column_name="partner_pushed_at",
        db_column_name="partner_pushed_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
