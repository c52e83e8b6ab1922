"""The database engine chosen by `CPMS_DATABASE_URL`, and its lifecycle."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from app.config import Settings

# How a CPMS process names itself to PostgreSQL (pg_stat_activity.application_name).
APPLICATION_NAME = "cpms"

# Seconds a SQLite writer waits for the file lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30


def create_engine(settings: Settings) -> Engine:
    """Build (but do not connect) the engine for the configured URL."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)
    return PostgresEngine(
        config={
            "dsn": settings.database_url,
            "server_settings": {"application_name": APPLICATION_NAME},
        },
        log_queries=False,
    )


async def start_engine(engine: Engine, settings: Settings) -> bool:
    """Open the PostgreSQL pool (without one, every query opens its own connection).

    Returns whether this call opened it, so only its opener closes it."""
    if not isinstance(engine, PostgresEngine) or engine.pool is not None:
        return False
    await engine.start_connection_pool(
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        reset=_end_open_transaction,
    )
    return True


async def _end_open_transaction(connection: Any) -> None:
    """What a connection needs on its way back to the pool.

    asyncpg's default reset sends `RESET ALL; UNLISTEN *; ...` on every release: a round trip
    per transaction for session state this service never sets (no SET, LISTEN or advisory
    locks). Only a transaction left open by an error must not leak into the next user."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def stop_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    await engine.run_ddl("SELECT 1")


def locking_rows(query: Any) -> Any:
    """A SELECT whose rows stay locked until the transaction ends, so that two transactions
    deciding from the same row take turns. On PostgreSQL: FOR UPDATE; a SQLite transaction
    holds the whole database's write lock already (the unit of work begins IMMEDIATE)."""
    return query if isinstance(query.table._meta.db, SQLiteEngine) else query.lock_rows()


def configured_engine() -> Engine:
    """The engine every table uses (Piccolo resolves it through db.piccolo_conf)."""
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("no Piccolo engine configured (PICCOLO_CONF)")
    return engine


def unreachable(error: BaseException) -> bool:
    """The database cannot be reached now (worth trying again later), as opposed to refusing
    what was asked of it."""
    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | sqlite3.OperationalError,
    )
