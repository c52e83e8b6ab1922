"""Logging: JSON lines when stderr is not a terminal (collectors), readable text when it is."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.config import LogFormat, LogLevel

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Libraries that are too chatty at INFO: the ocpp library logs every frame.
QUIET_LOGGERS = {"ocpp": logging.WARNING, "piccolo": logging.WARNING}


def configure_logging(level: LogLevel, log_format: LogFormat) -> None:
    """Send every logger (ours, uvicorn's, libraries') to stderr in one format."""
    use_json = log_format == LogFormat.JSON or (
        log_format == LogFormat.AUTO and not sys.stderr.isatty()
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn adds a copy of each message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
        if use_json
        else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.value.upper())
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet_level, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
