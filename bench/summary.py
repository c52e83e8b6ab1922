"""What every benchmark's result shares: summary rows, the machine and the results file."""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
VERSION_TIMEOUT_S = 10


def row(
    measure: str,
    value: float | None,
    unit: str,
    target: str | None = None,
    met: bool | None = None,
) -> dict[str, Any]:
    """One line of a benchmark's summary table; `met` is None when there is no target."""
    return {"measure": measure, "value": value, "unit": unit, "target": target, "met": met}


def machine(postgres_url: str = POSTGRES_URL, redis_url: str = REDIS_URL) -> dict[str, Any]:
    """The host and the servers the figures were measured on."""
    return {
        "cores": os.cpu_count(),
        "ram_gib": ram_gib(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgres_version(postgres_url),
        "redis": redis_version(redis_url),
    }


def ram_gib() -> float | None:
    """Total memory from /proc/meminfo, in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def cpu_model() -> str | None:
    """The first `model name` of /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def postgres_version(url: str) -> str | None:
    """`show server_version` through psql; None when psql or the server is missing."""
    try:
        done = subprocess.run(
            ["psql", url, "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def redis_version(url: str) -> str | None:
    """redis_version from INFO; None when the server does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=VERSION_TIMEOUT_S)
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()
    except (redis.RedisError, OSError, KeyError):
        return None


def machine_line(info: dict[str, Any]) -> str:
    """The machine in one readable line, for the docs page."""
    processor = " ".join(
        part
        for part in (
            f"{info['cores']} cores" if info.get("cores") else "",
            f"({info['cpu']})" if info.get("cpu") else "",
        )
        if part
    )
    parts = [
        processor,
        f"{info['ram_gib']} GiB RAM" if info.get("ram_gib") else "",
        f"Linux {info['kernel']}" if info.get("kernel") else "",
        f"Python {info['python']}" if info.get("python") else "",
        f"PostgreSQL {info['postgresql']}" if info.get("postgresql") else "",
        f"Redis {info['redis']}" if info.get("redis") else "",
    ]
    return ", ".join(part for part in parts if part)


def command_line() -> str:
    """How this process was started, as one would type it: `python -m bench ingest`."""
    arguments = list(getattr(sys, "orig_argv", sys.argv))
    return shlex.join(["python", *arguments[1:]])


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json with the date, the command and the machine added."""
    document: dict[str, Any] = {
        "date": result.get("date") or datetime.now(UTC).isoformat(timespec="seconds"),
        "command": result.get("command") or command_line(),
        "machine": result.get("machine") or machine(),
        **result,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
