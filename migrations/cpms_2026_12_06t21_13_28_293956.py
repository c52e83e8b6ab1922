"""Ids a station echoes back: each station's counter of request ids (remoteStartId,
requestId), the id of each command that has one, and the latest progress the station
reported for it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T21:13:28:293956"
VERSION = "1.38.0"
DESCRIPTION = "request ids a station echoes; command progress"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ChargingStation",
        tablename="charging_station",
        column_name="last_request_id",
        db_column_name="last_request_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
        table_class_name="CommandLog",
        tablename="command_log",
        column_name="progress",
        db_column_name="progress",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
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
        table_class_name="CommandLog",
        tablename="command_log",
        column_name="progress_at",
        db_column_name="progress_at",
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
        table_class_name="CommandLog",
        tablename="command_log",
        column_name="request_id",
        db_column_name="request_id",
        column_class_name="Integer",
        column_class=Integer,
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
