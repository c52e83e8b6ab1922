"""Persistence: Piccolo tables, engine configuration, app registry."""

import os

# Piccolo finds its configuration module through this variable (migrations, engine_finder).
os.environ.setdefault("PICCOLO_CONF", "db.piccolo_conf")
