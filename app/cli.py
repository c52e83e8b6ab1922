"""The `cpms` command: serve, migrate, demo."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import click
import uvicorn

from app import __version__
from app.config import ENV_PREFIX, LogLevel, Settings, SettingsError, load_settings
from app.log import configure_logging

logger = logging.getLogger("cpms")


class ConfigurationError(click.ClickException):
    """An invalid setting: printed as one line, exit status 2."""

    exit_code = 2


def _settings(**overrides: Any) -> Settings:
    """Validated settings, CLI options over environment; a bad value ends with one line."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = load_settings(**given)
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run_quietly(step: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async database step; Piccolo prints progress to stdout, which goes to the log."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        asyncio.run(step())
    for line in output.getvalue().splitlines():
        if line.strip():
            logger.debug("%s", line.strip())


def _migrate() -> None:
    from db.migrate import migrate_forwards

    try:
        with warnings.catch_warnings():
            # Piccolo warns before failing on an unreachable server; the error says it all.
            warnings.simplefilter("ignore")
            _run_quietly(migrate_forwards)
    except Exception as error:
        # Unreachable server, bad credentials, a failed migration: one line, not a traceback.
        logger.debug("migration failed", exc_info=True)
        raise click.ClickException(
            f"cannot migrate the database: {type(error).__name__}: {error}"
        ) from None
    logger.info("database schema is up to date")


def _load_demo(settings: Settings) -> None:
    async def load() -> None:
        from app.demo import load_demo
        from app.events import EventBus
        from app.unit_of_work import UnitOfWorkFactory
        from db.engine import configured_engine

        engine = configured_engine()
        bus = EventBus("memory://")  # demo rows raise no events worth sharing
        await bus.connect()
        try:
            await load_demo(UnitOfWorkFactory(engine, bus)())
        finally:
            await bus.disconnect()

    _run_quietly(load)
    logger.info("demo data loaded (organization 'demo')")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="cpms")
def main() -> None:
    """Charge Point Management System: OCPP for chargers, GraphQL for everyone else.

    Configuration comes from CPMS_* environment variables; options override them.
    """


@main.command()
@click.option("--host", help="Address to listen on [CPMS_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [CPMS_PORT, default 8000].")
@click.option("--workers", type=int, help="Worker processes [CPMS_WORKERS, default 1].")
@click.option("--node-id", help="This node's name in a cluster [CPMS_NODE_ID].")
@click.option(
    "--log-level",
    type=click.Choice([level.value for level in LogLevel]),
    help="[CPMS_LOG_LEVEL, default info]",
)
@click.option("--demo", is_flag=True, help="Load the demo operator before serving.")
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    node_id: str | None,
    log_level: str | None,
    demo: bool,
) -> None:
    """Migrate the database, then serve GraphQL, OCPP and health endpoints."""
    options = {
        "host": host,
        "port": port,
        "workers": workers,
        "node_id": node_id,
        "log_level": log_level,
    }
    settings = _settings(**options)
    # Worker processes read their settings from the environment: hand the options on.
    for name, value in options.items():
        if value is not None:
            os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    _migrate()
    if demo:
        _load_demo(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        log_level=settings.log_level.value,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )


@main.command()
@click.option(
    "--backwards",
    "backwards_to",
    metavar="MIGRATION_ID",
    help="Undo migrations down to and including this id ('all' for every one).",
)
def migrate(backwards_to: str | None) -> None:
    """Bring the database schema up to date (or undo migrations)."""
    _settings()
    if backwards_to is None:
        _migrate()
        return
    from db.migrate import migrate_backwards

    async def step() -> None:
        await migrate_backwards(backwards_to)

    _run_quietly(step)
    logger.info("migrations undone", extra={"down_to": backwards_to})


@main.command()
def demo() -> None:
    """Load the demo operator: sites, stations, connectors, tariffs, id tokens (idempotent)."""
    settings = _settings()
    _migrate()
    _load_demo(settings)


if __name__ == "__main__":
    main()
