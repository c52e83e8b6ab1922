"""CI's PostgreSQL and Redis: start them when they do not answer, and tell whether the suite
restarted them.

    python .ci/services.py up POSTGRES_SERVER_URL REDIS_URL
        Each service that does not answer is started with this machine's own command (when it
        is expected on this machine: 127.0.0.1 or localhost), then waited for up to 30 s. On
        failure one line names the service, its address and what was tried; exit 1.

    python .ci/services.py fingerprint POSTGRES_SERVER_URL REDIS_URL
        One line that changes when either server restarts (PostgreSQL's start time, Redis's
        run_id): CI compares it before and after the suite, which must not stop the shared
        servers (a test that needs an outage starts a server of its own).

    python .ci/services.py create-database POSTGRES_SERVER_URL NAME
    python .ci/services.py drop-database POSTGRES_SERVER_URL NAME
        The run's own database, made empty before the suite and dropped after it.

The start commands may be replaced with CI_START_POSTGRES and CI_START_REDIS (shell commands).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
from redis import asyncio as aioredis

WAIT_S = 30.0
RETRY_START_S = 5.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {port} --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@asynccontextmanager
async def maintenance_connection(server_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the server's `postgres` database, for what concerns the whole server."""
    connection = await asyncio.wait_for(asyncpg.connect(f"{server_url}/postgres"), 5)
    try:
        yield connection
    finally:
        await connection.close()


async def postgres_answers(server_url: str) -> None:
    async with maintenance_connection(server_url):
        pass


async def redis_answers(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.wait_for(client.ping(), 5)
    finally:
        await client.aclose()


async def ensure(name: str, url: str, answers, start_command: str) -> str | None:
    """None once the service answers; otherwise the one line that says why it does not."""
    try:
        await answers(url)
        return None
    except Exception as error:
        first_error = error
    if urlsplit(url).hostname not in LOCAL_HOSTS:
        return f"CI: {name} at {url} does not answer ({first_error}); not on this machine"
    print(f"CI: {name} at {url} does not answer; starting it: {start_command}", flush=True)
    deadline = time.monotonic() + WAIT_S
    last_error: Exception = first_error
    while True:
        tried = await run_start(start_command)
        # A server killed a moment ago may still be on its way out (its lock file, its port):
        # the start is tried again every few seconds until it answers or the time is up.
        next_try = min(deadline, time.monotonic() + RETRY_START_S)
        while time.monotonic() < next_try:
            try:
                await answers(url)
                print(f"CI: {name} answers", flush=True)
                return None
            except Exception as error:  # still starting
                last_error = error
                await asyncio.sleep(0.5)
        if time.monotonic() >= deadline:
            return (
                f"CI: {name} at {url} did not answer within {WAIT_S:.0f} s after {tried}; "
                f"last error: {last_error}"
            )
        print(f"CI: {name} does not answer yet ({tried}); trying again", flush=True)


async def run_start(start_command: str) -> str:
    """Run the start command; what it did, in a few words."""
    starting = await asyncio.create_subprocess_shell(
        start_command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await starting.communicate()
    tried = f"`{start_command}` exited {starting.returncode}"
    if starting.returncode != 0 and output.strip():
        tried += f" ({output.decode(errors='replace').strip().splitlines()[-1]})"
    return tried


async def up(postgres_url: str, redis_url: str) -> int:
    redis_port = urlsplit(redis_url).port or 6379
    problems = [
        await ensure(
            "PostgreSQL",
            postgres_url,
            postgres_answers,
            os.environ.get("CI_START_POSTGRES", START_POSTGRES),
        ),
        await ensure(
            "Redis",
            redis_url,
            redis_answers,
            os.environ.get("CI_START_REDIS", START_REDIS.format(port=redis_port)),
        ),
    ]
    for problem in filter(None, problems):
        print(problem, file=sys.stderr)
    return 1 if any(problems) else 0


async def fingerprint(postgres_url: str, redis_url: str) -> int:
    async with maintenance_connection(postgres_url) as connection:
        postgres_started = await connection.fetchval("SELECT pg_postmaster_start_time()")
    client = aioredis.Redis.from_url(redis_url)
    try:
        redis_run_id = (await client.info("server"))["run_id"]
    finally:
        await client.aclose()
    print(f"postgresql started {postgres_started.isoformat()}, redis run_id {redis_run_id}")
    return 0


async def create_database(postgres_url: str, name: str) -> int:
    async with maintenance_connection(postgres_url) as connection:
        await connection.execute(f'CREATE DATABASE "{name}"')
    return 0


async def drop_database(postgres_url: str, name: str) -> int:
    async with maintenance_connection(postgres_url) as connection:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def main(argv: list[str]) -> int:
    commands = {
        "up": up,
        "fingerprint": fingerprint,
        "create-database": create_database,
        "drop-database": drop_database,
    }
    if len(argv) != 3 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return asyncio.run(commands[argv[0]](argv[1], argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
