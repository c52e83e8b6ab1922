"""Shared fixtures. The suite runs on whatever CPMS_DATABASE_URL / CPMS_REDIS_URL name; with
neither set it uses a throwaway SQLite file and the in-memory bus, and needs no server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

# Before any project import: settings are read once, on first use.
os.environ.setdefault(
    "CPMS_DATABASE_URL", f"sqlite:///{tempfile.mkdtemp(prefix='cpms-test-')}/test.sqlite3"
)

import base64
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from asyncpg.exceptions import DeadlockDetectedError
from ocpp.v16 import ChargePoint as Client16
from ocpp.v201 import ChargePoint as Client201
from piccolo.engine.postgres import PostgresEngine
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.config import Settings, get_settings
from app.events import EventBus
from app.main import create_app, reactions
from app.server_options import server_options
from app.sessions.service import forget_pricing
from app.stations.registration import register_station
from app.stations.service import forget_connector_rows
from app.unit_of_work import UnitOfWorkFactory
from db.engine import configured_engine, start_engine, stop_engine
from db.migrate import migrate_forwards
from db.tables import TABLES, Organization
from tests.own_servers import OwnRedis

REGISTRY_ORGANIZATION = "registry"
COMMAND_TIMEOUT_S = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def quietly(step: Callable[[], Awaitable[object]]) -> None:
    """Run a Piccolo migration step without its progress output."""
    with contextlib.redirect_stdout(io.StringIO()):
        await step()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[None]:
    """A migrated database with a connection pool for the whole run."""
    await quietly(migrate_forwards)
    engine = configured_engine()
    started = await start_engine(engine, settings)
    yield
    if started:
        await stop_engine(engine)


async def clear_tables() -> None:
    engine = configured_engine()
    if isinstance(engine, PostgresEngine):
        names = ", ".join(f'"{table._meta.tablename}"' for table in TABLES)
        # The live server's background writers (message log, presence) may hold locks that
        # TRUNCATE waits for the other way round: PostgreSQL then aborts one side; retry.
        for attempt in range(5):
            try:
                await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                break
            except DeadlockDetectedError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.1)
    else:
        for table in reversed(TABLES):
            await table.delete(force=True)


@pytest.fixture
async def clean_db(database: None) -> None:
    """An empty (but migrated) database for this test."""
    await clear_tables()
    forget_connector_rows()  # ids restart with the tables
    forget_pricing()


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[EventBus]:
    event_bus = EventBus(settings.bus_url, settings.redis_prefix)
    await event_bus.connect()
    yield event_bus
    await event_bus.disconnect()


@pytest.fixture
def unit_of_work(bus: EventBus, database: None) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(configured_engine(), bus, reactions=reactions())


@pytest.fixture
async def own_redis(settings: Settings, tmp_path) -> AsyncIterator[OwnRedis]:
    """A Redis of this test's own, to stop or cut off (never the shared one). Redis tests run
    in the PostgreSQL + Redis pass."""
    if settings.redis_url is None:
        pytest.skip("CPMS_REDIS_URL not set: Redis tests run in the PostgreSQL + Redis pass")
    server = OwnRedis(tmp_path, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class LiveServer:
    def __init__(self, port: int, app: Starlette | None, tls: bool = False) -> None:
        self.app = app
        self.port = port
        self.http = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self.ws = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[LiveServer]:
    """The real app under a real uvicorn server, in the test event loop."""
    port = free_port()
    if settings.public_url is None:  # what partners are told: the port really listened on
        scheme = "https" if settings.tls_cert_file is not None else "http"
        settings = settings.model_copy(update={"public_url": f"{scheme}://127.0.0.1:{port}"})
    app = create_app(settings, configure_logs=False)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            **server_options(settings),
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield LiveServer(port, app, tls=settings.tls_cert_file is not None)
    finally:
        server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=SLOW_STOP_S)
        if not done:
            # Rare, and a hang to find: say what every task waits on before pytest-timeout
            # ends the test (and leaves this server running under the tests that follow).
            print(
                f"\nthe server on port {port} has not stopped after {SLOW_STOP_S} s;"
                f" {_pool_state()}; its tasks:\n{_task_stacks()}",
                file=sys.stderr,
            )
        await task


# A server that takes longer to stop than this is reported with what it waits on.
SLOW_STOP_S = 30.0


def _pool_state() -> str:
    pool = getattr(configured_engine(), "pool", None)
    if pool is None:
        return "no connection pool"
    return f"connection pool: {pool.get_size()} open, {pool.get_idle_size()} idle"


def _task_stacks() -> str:
    shown = []
    for each in asyncio.all_tasks():
        out = io.StringIO()
        each.print_stack(limit=12, file=out)
        shown.append(out.getvalue())
    return "\n".join(shown)


# --- Stripe: localstripe, a stateful stand-in with webhooks ---

STRIPE_KEY = "sk_test_cpms"
STRIPE_WEBHOOK_SECRET = "whsec_cpms_test"


@pytest.fixture(scope="session")
def localstripe() -> str:
    """localstripe on a free loopback port, in a thread with its own event loop (its own
    command would listen on every interface); its base URL."""
    from aiohttp import web
    from localstripe import server as stripe_server

    port = free_port()
    ready = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(stripe_server.app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, name="localstripe", daemon=True).start()
    assert ready.wait(10), "localstripe did not start"
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def station_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """The CA that signs stations' certificates on the shared server: its certificate, and
    the files of the certificate and its key."""
    from tests.pki import make_ca, write_pem

    certificate, key = make_ca("Acme Station CA")
    return certificate, *write_pem(tmp_path_factory.mktemp("station-ca"), "ca", certificate, key)


@pytest.fixture(scope="session")
def served_settings(settings: Settings, localstripe: str, station_ca: tuple) -> Settings:
    """Unknown stations follow the registry organization's policy, a silent station fails a
    command in seconds, not half a minute, payments go to localstripe, and a station CA signs
    stations' certificates."""
    _, ca_cert_file, ca_key_file = station_ca
    return settings.model_copy(
        update={
            "station_ca_cert_file": ca_cert_file,
            "station_ca_key_file": ca_key_file,
            "station_certificate_days": 30,
            "registration_organization": REGISTRY_ORGANIZATION,
            "command_timeout_s": COMMAND_TIMEOUT_S,
            "stripe_secret_key": STRIPE_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "stripe_api_base": localstripe,
            # Webhook receivers and partners of the tests listen on 127.0.0.1, over http.
            "outbound_allow_private": True,
            # Every test calls from 127.0.0.1 and many fail a login or a connection on purpose:
            # the server the suite shares locks nothing out (tests of lockouts serve their own).
            "auth_max_failures": 10_000,
            "auth_address_max_failures": 1_000_000,
            # Running sessions' updates reach partners within a test's patience.
            "ocpi_session_update_s": 1.0,
            # A partner too slow to authorize a token is found out in a second.
            "ocpi_authorize_timeout_s": 1.0,
            # Partners' token lists are pulled from (again) within a test's patience, and one
            # of more than a thousand tokens is too long.
            "ocpi_token_pull_s": 1.0,
            "ocpi_max_pulled_tokens": 1000,
            # A hub's parties beyond the first three are refused.
            "ocpi_max_hub_parties": 3,
            # Stations' local lists follow a token's change within a test's patience, and a
            # list of three tokens already takes two messages.
            "local_list_interval_s": 0.5,
            # Sites are balanced again within a test's patience.
            "balancing_interval_s": 0.5,
            "local_list_items_per_message": 2,
        }
    )


@pytest.fixture(scope="session")
async def live_server(served_settings: Settings, database: None) -> AsyncIterator[LiveServer]:
    """The server most tests talk to."""
    async with serving(served_settings) as server:
        yield server


# --- Stations and real OCPP clients ---

TEST_ORGANIZATION = "acme"


@pytest.fixture
async def organization(clean_db) -> int:
    """An operator, plus the registry organization whose policy is 'reject'."""
    await Organization.insert(
        Organization(name="Acme Charging", slug=TEST_ORGANIZATION),
        Organization(name="Registry", slug=REGISTRY_ORGANIZATION, unknown_station_policy="reject"),
    )
    row = (
        await Organization.select(Organization.id)
        .where(Organization.slug == TEST_ORGANIZATION)
        .first()
    )
    assert row is not None
    return int(row["id"])


@pytest.fixture
def register(unit_of_work, organization) -> Callable[..., Any]:
    async def add(identity: str, password: str | None = None, profile: int | None = None):
        return await register_station(
            unit_of_work(), identity, TEST_ORGANIZATION, password=password, security_profile=profile
        )

    return add


def basic_auth(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def charger(
    server: Any,
    identity: str,
    protocol: str = "ocpp1.6",
    password: str | None = None,
    client_class: type | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[Any]:
    """A connected client charge point of the given version, its receive loop running;
    `tls` for a server that serves TLS."""
    headers = basic_auth(identity, password) if password else None
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[Subprotocol(protocol)],
        additional_headers=headers,
        ssl=tls,
    ) as websocket:
        client_class = client_class or (Client201 if protocol == "ocpp2.0.1" else Client16)
        client = client_class(identity, websocket, response_timeout=10)
        listener = asyncio.create_task(client.start())
        try:
            yield client
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


@pytest.fixture
def connect_charger(live_server) -> Callable[..., AbstractAsyncContextManager[Any]]:
    def open_charger(
        identity: str,
        protocol: str = "ocpp1.6",
        password: str | None = None,
        client_class: type | None = None,
    ):
        return charger(live_server, identity, protocol, password, client_class)

    return open_charger


async def next_event_of(events: AsyncIterator[Any], identity: str, within_s: float = 5.0) -> Any:
    """The next event about this station: events of earlier tests may still be in flight on
    the live server's bus."""
    async with asyncio.timeout(within_s):
        async for event in events:
            if getattr(event, "identity", None) == identity:
                return event
    raise AssertionError("subscription ended")


@pytest.fixture
def api_key(unit_of_work) -> Callable[..., Any]:
    """A new API key (the secret) of an organization, with a role."""
    from app.auth.models import Role
    from app.auth.service import provision_api_key

    async def issue(organization_slug: str = TEST_ORGANIZATION, role: str = "admin") -> str:
        issued = await provision_api_key(
            unit_of_work(), organization_slug, f"test {role}", Role(role)
        )
        return issued.secret

    return issue


async def graphql(
    server: LiveServer, query: str, variables: dict | None = None, token: str | None = None
) -> dict:
    """POST a GraphQL request as a client would; the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.http) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code == 200, response.text
    return response.json()


async def until_ready(server: LiveServer, process: Any, log_path: Any) -> None:
    """Wait (up to 30 s) for a server process's /readyz; its log if it dies first."""
    async with httpx.AsyncClient(base_url=server.http) as client:
        for _ in range(300):
            assert process.returncode is None, log_path.read_text()
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
