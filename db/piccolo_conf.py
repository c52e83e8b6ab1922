"""Piccolo's configuration module (PICCOLO_CONF): the engine and the app registry."""

from piccolo.conf.apps import AppRegistry

from app.config import get_settings
from db.engine import create_engine

DB = create_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["db.piccolo_app"])
