from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T07:20:51:622627"
VERSION = "1.38.0"
DESCRIPTION = "security events count their repeats; a station's pending password"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="SecurityEvent",
        tablename="security_event",
        column_name="last_occurred_at",
        db_column_name="last_occurred_at",
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

    manager.add_column(
        table_class_name="SecurityEvent",
        tablename="security_event",
        column_name="repeats",
        db_column_name="repeats",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 1,
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
        table_class_name="ChargingStation",
        tablename="charging_station",
        column_name="pending_password_hash",
        db_column_name="pending_password_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 255,
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

    manager.alter_column(
        table_class_name="SecurityEvent",
        tablename="security_event",
        column_name="occurred_at",
        db_column_name="occurred_at",
        params={"index": True},
        old_params={"index": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
