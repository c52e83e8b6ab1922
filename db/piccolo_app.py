"""The Piccolo app: our tables and the one migration history."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from db.tables import TABLES

APP_NAME = "cpms"

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(Path(migrations.__file__).parent),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
