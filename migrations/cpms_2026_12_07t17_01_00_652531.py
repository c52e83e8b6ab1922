from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T17:01:00:652531"
VERSION = "1.38.0"
DESCRIPTION = "Where a site's charging spaces are (OCPI ParkingType)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Site",
        tablename="site",
        column_name="parking_type",
        db_column_name="parking_type",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 24,
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
