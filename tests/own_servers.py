"""Servers of a test's own, for tests that need a server to die or restart.

The shared PostgreSQL and Redis that the suite runs against are never stopped, restarted,
flushed or cut off by a test: another suite may be using them at the same time (`.ci/stress`),
and CI checks they ran through the suite. A test that needs an outage starts one of these on a
free port in a temporary directory and stops that one."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from redis import asyncio as aioredis

START_TIMEOUT_S = 10.0


class OwnRedis:
    """A redis-server of the test's own: `start`, `stop`, and `start` again on the same port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not on PATH: tests of a Redis outage need it")
        self._process = await asyncio.create_subprocess_exec(
            executable,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
            *("--save", "", "--appendonly", "no", "--logfile", str(self.directory / "log")),
        )
        await self._until_it_answers()

    async def stop(self) -> None:
        """Stop it as an outage does: at once, with clients connected."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None

    async def _until_it_answers(self) -> None:
        client = aioredis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                while True:
                    assert self._process is not None
                    if self._process.returncode is not None:
                        log = (self.directory / "log").read_text(errors="replace")
                        raise RuntimeError(f"redis-server exited: {log[-500:]}")
                    try:
                        await client.ping()
                        return
                    except (ConnectionError, OSError, aioredis.ConnectionError):
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()
