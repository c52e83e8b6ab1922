"""Two installations on one Redis stay apart: each has its own database and organization ids
that collide, and Redis channels ignore the database number, so only the namespace (database
number plus CPMS_REDIS_PREFIX) keeps one installation's live events out of the other's."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import LiveServer, charger, free_port, until_ready
from tests.graphql_ws import graphql_ws

LOGIN = (
    'mutation { login(organization: "demo", email: "viewer@demo.example", '
    'password: "cpms-demo") { ... on LoginSuccess { token } } }'
)
WATCH = "subscription { stationConnections { identity connected } }"
STATION = "DEMO-BER-AC-01"


@asynccontextmanager
async def installation(
    tmp_path: Path, name: str, redis_url: str, prefix: str | None
) -> AsyncIterator[LiveServer]:
    """`cpms serve --demo` with a database of its own, on the given Redis."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPMS_")}
    env.update(
        CPMS_DATABASE_URL=f"sqlite:///{tmp_path}/{name}.sqlite3",
        CPMS_REDIS_URL=redis_url,
        CPMS_LOG_FORMAT="json",
    )
    if prefix:
        env["CPMS_REDIS_PREFIX"] = prefix
    log_path = tmp_path / f"{name}.log"
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    server = LiveServer(port, app=None)
    try:
        await until_ready(server, process, log_path)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 15)


async def viewer_token(server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=server.http) as client:
        login = (await client.post("/graphql", json={"query": LOGIN})).json()
    return str(login["data"]["login"]["token"])


def on_database(redis_url: str, database: int) -> str:
    parts = urlsplit(redis_url)
    return parts._replace(path=f"/{database}").geturl()


@pytest.mark.parametrize(
    ("databases", "prefixes"),
    [((13, 14), (None, None)), ((13, 13), ("alpha", "beta"))],
    ids=["two database numbers", "one database, two prefixes"],
)
async def test_two_installations_on_one_redis_do_not_hear_each_other(
    settings, tmp_path, databases, prefixes
):
    if settings.redis_url is None:
        pytest.skip("needs CPMS_REDIS_URL (runs in the PostgreSQL + Redis pass)")
    urls = [on_database(settings.redis_url, database) for database in databases]
    async with (
        installation(tmp_path, "a", urls[0], prefixes[0]) as first,
        installation(tmp_path, "b", urls[1], prefixes[1]) as second,
    ):
        tokens = [await viewer_token(first), await viewer_token(second)]
        async with (
            graphql_ws(f"{first.ws}/graphql", token=tokens[0]) as own,
            graphql_ws(f"{second.ws}/graphql", token=tokens[1]) as other,
        ):
            await own.subscribe(WATCH)
            await other.subscribe(WATCH)
            # No acknowledgement per subscription: connect until the own side sees it.
            seen = None
            for _attempt in range(50):
                async with charger(first, STATION):
                    try:
                        seen = await asyncio.wait_for(own.next_data(), 0.5)
                        break
                    except TimeoutError:
                        continue
            assert seen is not None and seen["stationConnections"]["identity"] == STATION
            async with charger(first, STATION):
                await asyncio.sleep(0.5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(other.next_data(), 1.0)
