"""The `cpms` command: serve, migrate, demo."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import fcntl
import io
import json
import logging
import os
import socket
import ssl
import sys
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, Any, TypeVar

import click
import uvicorn

from app import __version__
from app.config import ENV_PREFIX, LogLevel, Settings, SettingsError, load_settings
from app.log import configure_logging
from app.server_options import server_options

logger = logging.getLogger("cpms")

T = TypeVar("T")


class StartupError(click.ClickException):
    """A failure before serving: one line on stderr and an exit status of its own (see
    docs/operations.md, "Exit statuses")."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


EXIT_REFUSED = 1  # asked not to, or not safe: nothing was changed
EXIT_SETTINGS = 2
EXIT_DATABASE = 3
EXIT_REDIS = 4
EXIT_LISTEN = 5
EXIT_NO_SUCH_MIGRATION = 6


class ConfigurationError(StartupError):
    """An invalid setting: printed as one line, exit status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_SETTINGS)


def _settings(**overrides: Any) -> Settings:
    """Validated settings, CLI options over environment; a bad value ends with one line."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = load_settings(**given)
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run_quietly(step: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async database step; Piccolo prints progress to stdout, which goes to the log."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = asyncio.run(step())
    for line in output.getvalue().splitlines():
        if line.strip():
            logger.debug("%s", line.strip())
    return result


def _database_step(what: str, step: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """A database step whose failure (unreachable server, bad credentials, a failed migration)
    ends the command with one line and EXIT_DATABASE, not a traceback."""
    from db.migrate import UnknownMigration

    try:
        with warnings.catch_warnings():
            # Piccolo warns before failing on an unreachable server; the error says it all.
            warnings.simplefilter("ignore")
            return _run_quietly(step)
    except UnknownMigration as error:
        raise StartupError(str(error), EXIT_NO_SUCH_MIGRATION) from None
    except Exception as error:
        logger.debug("%s failed", what, exc_info=True)
        raise StartupError(
            f"cannot {what}: {type(error).__name__}: {error}", EXIT_DATABASE
        ) from None


def _migrate() -> None:
    from db.migrate import migrate_forwards

    applied = _database_step("migrate the database", migrate_forwards)
    logger.info(
        f"database schema is up to date ({applied} migration{'' if applied == 1 else 's'} applied)",
        extra={"applied": applied},
    )


def _check_redis(settings: Settings) -> None:
    """Fail before serving when the configured Redis does not answer."""
    if settings.redis_url is None:
        return
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    async def ping() -> None:
        client = aioredis.from_url(settings.redis_url or "", socket_connect_timeout=5)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except (RedisError, OSError) as error:
        raise StartupError(
            f"cannot reach Redis at CPMS_REDIS_URL: {type(error).__name__}: {error}", EXIT_REDIS
        ) from None


def _check_files(settings: Settings) -> None:
    """The files settings name (TLS, the station CA) are read before anything starts."""
    from app.main import station_ca

    try:
        station_ca(settings)
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None
    if settings.tls_cert_file is None:
        return
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(f"{ENV_PREFIX}TLS_CERT_FILE: cannot use it: {error}") from None
    if settings.tls_client_ca_file is not None:
        try:
            context.load_verify_locations(settings.tls_client_ca_file)
        except (OSError, ssl.SSLError) as error:
            raise ConfigurationError(
                f"{ENV_PREFIX}TLS_CLIENT_CA_FILE: cannot use it: {error}"
            ) from None


def _check_listen(settings: Settings) -> None:
    """Fail before anything starts when the address cannot be listened on (in use, or not an
    address of this machine), instead of after the application has started."""
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
        family, kind, protocol, _, address = infos[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise StartupError(
            f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}",
            EXIT_LISTEN,
        ) from None


def _with_unit_of_work(
    settings: Settings, use_case: Callable[[Any], Coroutine[Any, Any, Any]]
) -> Any:
    """Run one use case against the configured database and bus, as the server would."""
    from app.errors import CPMSError
    from app.events import EventBus
    from app.main import reactions
    from app.unit_of_work import UnitOfWorkFactory
    from db.engine import configured_engine

    result: list[Any] = []

    async def run() -> None:
        engine = configured_engine()
        bus = EventBus(settings.bus_url, settings.redis_prefix)
        await bus.connect()
        try:
            result.append(await use_case(UnitOfWorkFactory(engine, bus, reactions=reactions())()))
        finally:
            await bus.disconnect()

    try:
        _run_quietly(run)
    except CPMSError as error:
        raise click.ClickException(error.message) from None
    return result[0]


def _load_demo(settings: Settings) -> None:
    from app.demo import load_demo

    _with_unit_of_work(settings, load_demo)
    logger.info("demo data loaded (organization 'demo')")


# While `cpms serve` runs on SQLite, it holds a shared lock on a file beside the database, so that
# `cpms migrate --backwards` can tell a server uses it (PostgreSQL lists its connections instead).
SERVING_LOCK_SUFFIX = "-serving"
_serving_lock: IO[str] | None = None


def _serving_lock_path(settings: Settings) -> Path:
    return settings.sqlite_path.with_name(settings.sqlite_path.name + SERVING_LOCK_SUFFIX)


def _hold_serving_lock(settings: Settings) -> None:
    global _serving_lock
    if not settings.is_sqlite:
        return
    _serving_lock = _serving_lock_path(settings).open("a")  # held until the process ends
    fcntl.flock(_serving_lock, fcntl.LOCK_SH)


def _served_on_sqlite(settings: Settings) -> bool:
    """Whether a `cpms serve` holds this SQLite database now."""
    path = _serving_lock_path(settings)
    if not settings.is_sqlite or not path.exists():
        return False
    with path.open("a") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN)
    return False


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
    _check_listen(settings)
    _check_files(settings)
    _check_redis(settings)
    _migrate()
    if demo:
        _load_demo(settings)
    _hold_serving_lock(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        log_level=settings.log_level.value,
        **server_options(settings),
    )


@main.command()
@click.option(
    "--backwards",
    "backwards_to",
    metavar="MIGRATION_ID",
    help="Undo migrations down to and including this id ('all' for every one: every table "
    "and all data go).",
)
@click.option("--yes", is_flag=True, help="Undo everything without asking (--backwards all).")
def migrate(backwards_to: str | None, yes: bool) -> None:
    """Bring the database schema up to date (or undo migrations)."""
    settings = _settings()
    if backwards_to is None:
        _migrate()
        return
    from db.migrate import migrate_backwards, other_connections

    connected = _database_step("check the database", other_connections)
    if connected:
        raise StartupError(
            f"{connected} other CPMS connection(s) use this database: stop the servers first",
            EXIT_REFUSED,
        )
    if _served_on_sqlite(settings):
        raise StartupError("a cpms serve uses this database: stop it first", EXIT_REFUSED)
    if backwards_to == "all" and not yes:
        if not sys.stdin.isatty():
            raise StartupError(
                "--backwards all drops every table: confirm with --yes (no terminal to ask on)",
                EXIT_REFUSED,
            )
        if not click.confirm("Drop every table and all data?", default=False):
            raise StartupError("nothing undone", EXIT_REFUSED)

    async def step() -> int:
        return await migrate_backwards(backwards_to)

    undone = _database_step("undo migrations", step)
    logger.info(
        f"{undone} migration{'' if undone == 1 else 's'} undone", extra={"down_to": backwards_to}
    )


ORGANIZATION_HELP = "Slug of the organization; may be left out while there is only one."


def organization_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--organization", "organization_slug", help=ORGANIZATION_HELP)


def _organization_slug(settings: Settings, given: str | None) -> str:
    """The organization a provisioning command is for: the one named, else the only one."""
    from app.auth.organizations import default_organization_slug

    if given is not None:
        return given
    return str(_with_unit_of_work(settings, lambda uow: default_organization_slug()))


@main.group()
def organization() -> None:
    """Provision organizations (charge point operators, the tenants)."""


@organization.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The operator's name.")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 default currency.")
@click.option("--country-code", help="ISO 3166-1 alpha-2 (roaming identity, with --party-id).")
@click.option("--party-id", help="3 letters or digits (roaming identity, with --country-code).")
def organization_add(
    slug: str, name: str, currency: str, country_code: str | None, party_id: str | None
) -> None:
    """Create an organization: its users, keys and stations are then added with --organization."""
    from app.auth.organizations import add_organization

    settings = _settings()
    _migrate()
    fields = {
        "slug": slug,
        "name": name,
        "default_currency": currency,
        "country_code": country_code,
        "party_id": party_id,
    }
    created = _with_unit_of_work(settings, lambda uow: add_organization(uow, fields))
    click.echo(f"organization {created.slug} added (id {created.id})")


@organization.command("list")
def organization_list() -> None:
    """Every organization, as CSV."""
    from app.auth.organizations import list_organizations

    settings = _settings()
    _migrate()
    found = _with_unit_of_work(settings, lambda uow: list_organizations())
    table = io.StringIO()
    out = csv.writer(table, lineterminator="\n")
    out.writerow(["slug", "name", "currency", "country_code", "party_id", "suspended"])
    for each in found:
        out.writerow(
            [
                each.slug,
                each.name,
                each.default_currency,
                each.country_code or "",
                each.party_id or "",
                "yes" if each.suspended_at else "no",
            ]
        )
    click.echo(table.getvalue(), nl=False)


@main.group()
def station() -> None:
    """Provision charging stations."""


@station.command("add")
@click.argument("identity")
@organization_option()
@click.option(
    "--password", help="HTTP Basic password, 16 to 40 characters; generated when left out."
)
@click.option(
    "--security-profile",
    type=click.IntRange(0, 3),
    help="0: none (must be asked for), 1: Basic (default), 2: TLS+Basic, 3: TLS+client certificate",
)
def station_add(
    identity: str,
    organization_slug: str | None,
    password: str | None,
    security_profile: int | None,
) -> None:
    """Register a station that may connect as /ocpp/IDENTITY; a generated password is
    printed once as `password: <secret>`."""
    from app.stations.management import provision_station

    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    fields = {"password": password, "security_profile": security_profile}
    created = _with_unit_of_work(
        settings, lambda uow: provision_station(uow, slug, identity, fields)
    )
    record = created.station
    click.echo(
        f"station {record.identity} added "
        f"(id {record.id}, security profile {record.security_profile})"
    )
    if created.password:
        click.echo(f"password: {created.password}")


@station.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@organization_option()
def station_import(file: io.TextIOBase, organization_slug: str | None) -> None:
    """Register stations from a CSV file with the header identity,site,password,
    security_profile (only identity required; a missing password is generated). Prints a line
    per station; importing the same file again changes nothing."""
    from app.stations.imports import import_stations_csv

    text = file.read()
    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    report = _with_unit_of_work(settings, lambda uow: import_stations_csv(uow, slug, text))
    _print_report(report, "identity", with_password=True)


def _print_report(report: list[Any], key: str, *, with_password: bool) -> None:
    """An import's report as CSV on stdout, a summary on stderr; exit 1 if a line failed."""
    from app.imports import Outcome

    table = io.StringIO()
    out = csv.writer(table, lineterminator="\n")
    out.writerow(["line", key, "outcome", *(["password"] if with_password else []), "message"])
    for line in report:
        secret = [line.password or ""] if with_password else []
        out.writerow([line.line, line.key, line.outcome.value, *secret, line.message or ""])
    click.echo(table.getvalue(), nl=False)
    counts = {outcome: sum(line.outcome is outcome for line in report) for outcome in Outcome}
    click.echo(", ".join(f"{count} {outcome.value}" for outcome, count in counts.items()), err=True)
    if counts[Outcome.FAILED]:
        raise SystemExit(1)


@main.group()
def token() -> None:
    """Provision id tokens (RFID cards, app tokens)."""


@token.command("add")
@click.argument("uid")
@organization_option()
@click.option("--type", "token_type", default="ISO14443", show_default=True)
@click.option("--user", "user_email", help="E-mail of the user the token belongs to.")
@click.option("--group", "group_id", help="Token group (shared parent id).")
def token_add(
    uid: str,
    organization_slug: str | None,
    token_type: str,
    user_email: str | None,
    group_id: str | None,
) -> None:
    """Register an id token that may charge."""
    from app.auth.service import add_token

    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    token_id = _with_unit_of_work(
        settings,
        lambda uow: add_token(uow, slug, uid, token_type, user_email, group_id),
    )
    click.echo(f"id token {uid} added (id {token_id})")


@token.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@organization_option()
def token_import(file: io.TextIOBase, organization_slug: str | None) -> None:
    """Register id tokens from a CSV file with the header uid,type,user,group (only uid
    required; type ISO14443 when empty). Prints a line per token; importing the same file again
    changes nothing."""
    from app.auth.imports import import_tokens_csv

    text = file.read()
    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    report = _with_unit_of_work(settings, lambda uow: import_tokens_csv(uow, slug, text))
    _print_report(report, "uid", with_password=False)


ROLES = click.Choice(["admin", "operator", "viewer", "driver"])


@main.group()
def user() -> None:
    """Provision users (staff and drivers)."""


@user.command("add")
@click.argument("email")
@organization_option()
@click.option("--role", type=ROLES, default="viewer", show_default=True)
@click.option("--name")
@click.option("--password", help="At least 8 characters; asked for at a terminal when not given.")
def user_add(
    email: str, organization_slug: str | None, role: str, name: str | None, password: str | None
) -> None:
    """Add a user who can log in to the API (the first admin comes from here)."""
    from app.auth.models import Role
    from app.auth.service import provision_user

    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("no terminal to ask for the password on: give --password")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    added = _with_unit_of_work(
        settings,
        lambda uow: provision_user(uow, slug, email, Role(role), password, name),
    )
    click.echo(f"user {added.email} added (id {added.id}, role {added.role})")


@main.group()
def partner() -> None:
    """Connect roaming partners (OCPI eMSPs and hubs)."""


@partner.command("add")
@click.argument("name")
@click.option("--country-code", required=True, help="ISO 3166-1 alpha-2 of the partner's party.")
@click.option("--party-id", required=True, help="The partner's 3-character party id.")
@click.option(
    "--role",
    type=click.Choice(["EMSP", "HUB", "NSP", "SCSP"], case_sensitive=False),
    default="EMSP",
    show_default=True,
)
@organization_option()
def partner_add(
    name: str, country_code: str, party_id: str, role: str, organization_slug: str | None
) -> None:
    """Add a partner who will register with us: prints one JSON object with its id, our
    versions URL and the token A to hand over (shown only here)."""
    from app.roaming.service import provision_partner
    from ocpi.peers import VERSIONS_PATH
    from schema.ids import global_id

    settings = _settings()
    _migrate()
    slug = _organization_slug(settings, organization_slug)
    fields = {"name": name, "country_code": country_code, "party_id": party_id, "role": role}
    issued = _with_unit_of_work(settings, lambda uow: provision_partner(uow, slug, fields))
    click.echo(
        json.dumps(
            {
                "id": str(global_id("Partner", issued.partner.id)),
                "versions_url": settings.public_base_url + VERSIONS_PATH,
                "token_a": issued.token_a,
            }
        )
    )


@main.group()
def apikey() -> None:
    """Provision API keys for integrators."""


@apikey.command("add")
@click.argument("name")
@organization_option()
@click.option("--role", type=ROLES, default="viewer", show_default=True)
@click.option(
    "--platform",
    is_flag=True,
    help="A platform key: manages organizations, sees inside none unless it acts for one.",
)
def apikey_add(name: str, organization_slug: str | None, role: str, platform: bool) -> None:
    """Create an API key; it is printed once and cannot be shown again."""
    from app.auth.models import Role
    from app.auth.organizations import provision_platform_key
    from app.auth.service import provision_api_key

    settings = _settings()
    _migrate()
    if platform:
        if organization_slug is not None:
            raise click.UsageError("a platform key belongs to no organization: drop --organization")
        issued = _with_unit_of_work(settings, lambda uow: provision_platform_key(uow, name))
        click.echo(issued.secret)
        click.echo(
            f"platform key {name!r} added (id {issued.principal.platform_key_id}); "
            "store it now, it cannot be shown again",
            err=True,
        )
        return
    slug = _organization_slug(settings, organization_slug)
    issued = _with_unit_of_work(
        settings, lambda uow: provision_api_key(uow, slug, name, Role(role))
    )
    click.echo(issued.secret)
    click.echo(
        f"API key {name!r} added (id {issued.principal.api_key_id}, role {role}); "
        "store it now, it cannot be shown again",
        err=True,
    )


@main.command()
def demo() -> None:
    """Load the demo operator: sites, stations, connectors, tariffs, id tokens (idempotent)."""
    settings = _settings()
    _migrate()
    _load_demo(settings)


@main.command()
@click.option(
    "--url",
    "urls",
    multiple=True,
    default=("ws://127.0.0.1:8000/ocpp",),
    show_default=True,
    help="The CPMS's OCPP address; given several times (one per node), stations take them in turn.",
)
@click.option("--stations", type=click.IntRange(1, 200_000), default=10, show_default=True)
@click.option(
    "--ocpp201-share",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of stations speaking OCPP 2.0.1; the others speak 1.6J.",
)
@click.option("--duration", type=float, default=60, show_default=True, help="Seconds to run.")
@click.option(
    "--prefix",
    default="SIM",
    show_default=True,
    help="Identities are PREFIX-000000, PREFIX-000001...",
)
@click.option("--password", help="HTTP Basic password of every station (security profile 1).")
@click.option("--heartbeat", type=float, default=300, show_default=True, help="Seconds.")
@click.option("--meter-interval", type=float, default=60, show_default=True, help="Seconds.")
@click.option(
    "--session",
    "session_s",
    type=(float, float),
    default=(900, 3600),
    show_default=True,
    help="Session length range, seconds.",
)
@click.option(
    "--idle",
    "idle_s",
    type=(float, float),
    default=(60, 600),
    show_default=True,
    help="Time between sessions, seconds.",
)
@click.option("--power", "power_w", type=int, default=11_000, show_default=True, help="Watts.")
@click.option("--no-sessions", is_flag=True, help="Only connect, boot and send heartbeats.")
@click.option(
    "--charging-share",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Share of stations that charge; the others only boot, report and send heartbeats.",
)
@click.option("--fault-chance", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option("--drop-chance", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option(
    "--drop-seconds",
    "drop_s",
    type=(float, float),
    default=(20, 120),
    show_default=True,
    help="How long a network drop lasts; messages are queued and replayed after it.",
)
@click.option("--ramp", type=float, default=0, show_default=True, help="Spread connects (s).")
@click.option(
    "--no-validate",
    is_flag=True,
    help="Do not check messages against the OCPP schemas: less CPU for large fleets.",
)
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--source-address",
    "source_addresses",
    multiple=True,
    help="Loopback source addresses (127.0.0.2, ...), one per process in turn.",
)
@click.option(
    "--progress-every",
    "progress_s",
    type=click.FloatRange(0),
    default=5,
    show_default=True,
    help="Seconds between progress lines on stderr (0: none).",
)
def simulate(
    urls: tuple[str, ...],
    stations: int,
    ocpp201_share: float,
    duration: float,
    prefix: str,
    password: str | None,
    heartbeat: float,
    meter_interval: float,
    session_s: tuple[float, float],
    idle_s: tuple[float, float],
    power_w: int,
    no_sessions: bool,
    charging_share: float,
    fault_chance: float,
    drop_chance: float,
    drop_s: tuple[float, float],
    ramp: float,
    no_validate: bool,
    processes: int,
    source_addresses: tuple[str, ...],
    progress_s: float,
) -> None:
    """Simulated charging stations against a CPMS (this one or any other); prints progress on
    stderr and a JSON report of what they sent and got back; exits 1 when no station could
    connect."""
    import json

    from simulator.run import Plan, run
    from simulator.station import Behaviour

    plan = Plan(
        url=urls[0],
        more_urls=urls[1:],
        session_share=charging_share,
        stations=stations,
        duration_s=duration,
        share_201=ocpp201_share,
        prefix=prefix,
        password=password,
        ramp_s=ramp,
        validate=not no_validate,
        processes=processes,
        source_addresses=source_addresses,
        progress_s=progress_s,
        behaviour=Behaviour(
            heartbeat_s=heartbeat,
            meter_interval_s=meter_interval,
            session_s=session_s,
            idle_s=idle_s,
            power_w=power_w,
            sessions=not no_sessions,
            fault_chance=fault_chance,
            drop_chance=drop_chance,
            drop_s=drop_s,
        ),
    )
    report = run(plan)
    click.echo(json.dumps(report, indent=2))
    if report["connects"] == 0:
        reasons = report["connect_failure_reasons"]
        why = max(reasons, key=reasons.get) if reasons else "the run ended first"
        raise click.ClickException(f"no station could connect: {why}")


if __name__ == "__main__":
    main()
