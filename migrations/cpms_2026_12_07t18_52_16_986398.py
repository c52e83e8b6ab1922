from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Numeric
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T18:52:16:986398"
VERSION = "1.38.0"
DESCRIPTION = "Demand response events limit a site in amperes per phase; the unused site_limit table goes (a site carries its grid connection)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cpms", description=DESCRIPTION
    )

    manager.drop_table(
        class_name="SiteLimit", tablename="site_limit", schema=None
    )

    manager.drop_column(
        table_class_name="DemandResponseEvent",
        tablename="demand_response_event",
        column_name="limit_w",
        db_column_name="limit_w",
        schema=None,
    )

    manager.add_column(
        table_class_name="DemandResponseEvent",
        tablename="demand_response_event",
        column_name="limit_a",
        db_column_name="limit_a",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": None,
            "digits": (8, 1),
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
