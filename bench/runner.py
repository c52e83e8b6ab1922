"""Run the benchmarks against servers started here, then regenerate docs/benchmarks.md.

    python -m bench [ingest] [scale] [dashboard] [ocpi] [--quick] [--docs-only]
        [--postgres postgresql://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/0]

No names runs them all, in that order. Each benchmark starts `cpms serve` on PostgreSQL and
Redis, writes bench/results/<name>.json with a "summary", and the docs page is rebuilt from
every results file that has one, so figures of benchmarks not run this time stay on it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench import ocpp_ingest, summary

BENCHMARKS = ("ingest", "scale", "dashboard", "ocpi")
# Results file names start with these; the docs page lists them in this order.
RESULT_PREFIXES = ("ingest", "scale", "graphql_dashboard", "ocpi")
DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
INGEST_DATABASE = "cpms_bench_ingest"
SCALE_DATABASE = "cpms_bench_scale"
DASHBOARD_DATABASE = "cpms_bench_dashboard"  # filled once (minutes), so never dropped
OCPI_DATABASE = "cpms_bench_ocpi"
DASHBOARD_CONCURRENCIES = (1, 4)
QUICK_RATES = (1000.0, 3000.0)
QUICK_DURATION_S = 5.0
QUICK_REQUESTS = 30
# Rough wall time of a full run on a 2-core machine, for the docs page.
MINUTES = {"ingest": 4, "scale": 35, "dashboard": 5, "ocpi": 4}
DASHBOARD_FILL_MINUTES = 5
PAGE_WIDTH = 96


@dataclass(frozen=True)
class Servers:
    """Where PostgreSQL and Redis run, and whether runs are the short ones."""

    postgres: str
    redis: str
    quick: bool

    def database(self, name: str) -> str:
        """The PostgreSQL URL of database `name` on this server."""
        return urlsplit(self.postgres)._replace(path=f"/{name}").geturl()


# --- the benchmarks --------------------------------------------------------------------------


def run_ingest(servers: Servers) -> None:
    """Offered-load levels on a fresh database; writes bench/results/ingest.json."""
    asyncio.run(recreate_database(servers.database("postgres"), INGEST_DATABASE))
    database_url = servers.database(INGEST_DATABASE)
    if servers.quick:
        result = ocpp_ingest.levels(database_url, servers.redis, QUICK_RATES, QUICK_DURATION_S)
    else:
        result = ocpp_ingest.levels(database_url, servers.redis)
    result["machine"] = summary.machine(servers.database("postgres"), servers.redis)
    print(f"wrote {summary.write_result('ingest', result)}", file=sys.stderr)


def run_scale(servers: Servers) -> None:
    """bench.scale creates its own database and writes bench/results/scale(-quick).json."""
    scale = importlib.import_module("bench.scale")  # lazily: it need not exist for the others
    quick = ["--quick"] if servers.quick else []
    scale.main(
        ["--database-url", servers.database(SCALE_DATABASE), "--redis-url", servers.redis, *quick]
    )


def run_dashboard(servers: Servers) -> None:
    """GraphQL dashboard queries with 1, then 4 clients, on a database filled once."""
    from bench import graphql_dashboard  # lazily: it needs httpx, the others do not

    asyncio.run(ensure_database(servers.database("postgres"), DASHBOARD_DATABASE))
    quick = ["--requests", str(QUICK_REQUESTS)] if servers.quick else []
    for concurrency in DASHBOARD_CONCURRENCIES:
        graphql_dashboard.main(
            [
                "--database-url",
                servers.database(DASHBOARD_DATABASE),
                "--concurrency",
                str(concurrency),
                "--write-results",
                *quick,
            ]
        )


def run_ocpi(servers: Servers) -> None:
    """A roaming partner pulls every Location, then five partners are pushed EVSE statuses,
    each on a fresh database."""
    from bench import ocpi_locations, ocpi_push  # lazily: they need httpx and uvicorn

    quick = ["--quick"] if servers.quick else []
    for bench in (ocpi_locations, ocpi_push):
        asyncio.run(recreate_database(servers.database("postgres"), OCPI_DATABASE))
        bench.main(["--database-url", servers.database(OCPI_DATABASE), "--write-results", *quick])


RUNNERS: dict[str, Callable[[Servers], None]] = {
    "ingest": run_ingest,
    "scale": run_scale,
    "dashboard": run_dashboard,
    "ocpi": run_ocpi,
}


async def recreate_database(admin_url: str, name: str) -> None:
    """Drop `name` (closing its connections) and create it empty."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def ensure_database(admin_url: str, name: str) -> None:
    """Create `name` unless it exists."""
    connection = await asyncpg.connect(admin_url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def run_benchmarks(names: list[str], servers: Servers) -> list[str]:
    """Run each named benchmark; the names of those that failed."""
    failed = []
    for name in names:
        print(f"== {name}", file=sys.stderr)
        try:
            RUNNERS[name](servers)
        except SystemExit as error:  # the benchmarks stop with SystemExit("why")
            if error.code not in (None, 0):
                print(f"{name} failed: {error.code}", file=sys.stderr)
                failed.append(name)
        except Exception as error:  # one broken benchmark should not cost the others' figures
            print(f"{name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(name)
    return failed


# --- the docs page ---------------------------------------------------------------------------


def load_results(directory: Path = summary.RESULTS_DIR) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, result) of every results file with a summary, in page order."""
    found = []
    for path in directory.glob("*.json"):
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(result, dict) and isinstance(result.get("summary"), list):
            found.append((path.stem, result))
    return sorted(found, key=lambda item: (page_position(item[0]), item[0]))


def page_position(stem: str) -> int:
    """Where a results file goes on the page: by benchmark, unknown ones last."""
    for position, prefix in enumerate(RESULT_PREFIXES):
        if stem.startswith(prefix):
            return position
    return len(RESULT_PREFIXES)


def render_page(results: list[tuple[str, dict[str, Any]]]) -> str:
    """The whole Markdown page."""
    lines = ["# Benchmarks", "", wrap(introduction()), ""]
    if not results:
        lines += ["No results yet: run `python -m bench`.", ""]
    for stem, result in results:
        lines += section(stem, result)
    return "\n".join(lines)


def introduction() -> str:
    """What the page is and how to reproduce it."""
    total = sum(MINUTES.values())
    return (
        "The figures below are written by `python -m bench` from `bench/results/*.json`; "
        "do not edit this page by hand. Each benchmark starts its own `cpms serve` on "
        "PostgreSQL and Redis, which must run on 127.0.0.1 (`--postgres` and `--redis` name "
        f"other local ones), and drives it from the same machine. `python -m bench` runs all "
        f"of them in about {total} minutes (plus about {DASHBOARD_FILL_MINUTES} the first time, "
        "to fill the dashboard's database); `python -m bench ingest`, `python -m bench scale`, "
        "`python -m bench dashboard` or `python -m bench ocpi` runs one, `--quick` makes short "
        "runs that check the set-up rather than give figures to quote, and `--docs-only` "
        "only rebuilds this page. "
        "A section keeps the last run of its benchmark, so the dates can differ; client, "
        "server and database share the CPU, so compare runs made on the same machine."
    )


def section(stem: str, result: dict[str, Any]) -> list[str]:
    """A benchmark's heading, when/how/where it ran, any note, and its table."""
    title = result.get("title") or stem.removesuffix("-quick").replace("_", " ").capitalize()
    if "--quick" in str(result.get("command")):
        title += " (quick run)"
    machine = summary.machine_line(result.get("machine") or {})
    lines = [
        f"## {title}",
        "",
        f"- Date: {readable_date(result.get('date'))}",
        f"- Command: `{result.get('command', '?')}`",
        f"- Machine: {machine or 'not recorded'}",
        "",
    ]
    if result.get("note"):
        lines += [wrap(str(result["note"])), ""]
    return [*lines, *table(result["summary"]), ""]


def wrap(paragraph: str) -> str:
    """A paragraph in lines of the width the other docs use."""
    return textwrap.fill(paragraph, width=PAGE_WIDTH, break_on_hyphens=False)


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Measure | Value | Target | Met."""
    lines = ["| Measure | Value | Target | Met |", "|---|---:|---|:---:|"]
    for row in rows:
        met = "✓" if row.get("met") is True else "✗" if row.get("met") is False else ""
        value = format_value(row.get("value"), row.get("unit", ""))
        lines.append(f"| {row.get('measure', '')} | {value} | {row.get('target') or ''} | {met} |")
    return lines


def format_value(value: float | None, unit: str) -> str:
    """3,871 msg/s, 47.3 ms, 5.12 ms; n/a when there is no figure."""
    if value is None:
        return "n/a"
    if isinstance(value, int) or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def readable_date(date: str | None) -> str:
    """2025-01-31 14:05 UTC from an ISO date; as given when it does not parse."""
    if not date:
        return "not recorded"
    try:
        return datetime.fromisoformat(str(date)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(date)


def write_docs(page: Path = DOCS_PAGE) -> Path:
    """Regenerate the docs page from the results files."""
    page.write_text(render_page(load_results()))
    return page


# --- the command -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Benchmark names (none: all) and options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("benchmarks", nargs="*", metavar="|".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="short runs, to check the set-up")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default=summary.REDIS_URL)
    parser.add_argument("--docs-only", action="store_true", help="only rebuild the docs page")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.benchmarks) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    failed: list[str] = []
    if not args.docs_only:
        names = [name for name in BENCHMARKS if name in args.benchmarks or not args.benchmarks]
        failed = run_benchmarks(names, Servers(args.postgres, args.redis, args.quick))
    print(f"wrote {write_docs()}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")
