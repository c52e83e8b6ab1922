"""The composition root: builds the Starlette app with its routes and lifespan."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from app import __version__, tally
from app.attempts import FailedAttempts, Limits
from app.billing import payments, session_billing
from app.billing.provider import payment_provider
from app.body_limit import BodyLimit
from app.collector import settle_garbage_collector
from app.commands import service as commands
from app.config import ENV_PREFIX, Settings, SettingsError, get_settings
from app.events import (
    CommandCompleted,
    ConnectorStatusChanged,
    EventBus,
    FirmwareStatusReported,
    PartnerDeliveryChanged,
    SecurityEventRaised,
    SessionChanged,
    StationApproved,
    StationBooted,
    StationConnectionChanged,
    StationEventsReported,
)
from app.healing import command_failures, partner_alerts, recovery, station_alerts, watch
from app.healing import service as healing
from app.http_metrics import RequestTimer
from app.leases import Leases
from app.log import configure_logging
from app.monitoring import ClusterGauges
from app.outbound import OutboundPolicy
from app.outbox import OutboxWorker
from app.periodic import Periodic
from app.reactions import Reactions
from app.roaming.authorization import IssuerAuthorization
from app.roaming.local_lists import LocalLists
from app.roaming.pushes import PartnerPushes
from app.roaming.token_pulls import TokenPulls
from app.runtime import Runtime
from app.smart_charging import service as smart_charging
from app.smart_charging.balancing import SiteBalancing
from app.stations import service as stations
from app.stations.certificates import StationCA, load_station_ca
from app.stripe_webhook import stripe_webhook
from app.unit_of_work import UnitOfWorkFactory
from db.engine import configured_engine, start_engine, stop_engine
from db.engine import ping as ping_database
from db.group_commit import GroupCommit
from ocpi.peers import OcpiPeers
from ocpi.routes import ocpi_routes
from ocpp_server.endpoint import ocpp_websocket
from ocpp_server.gateway import OcppGateway
from ocpp_server.server import OcppServer
from schema.csv_exports import roaming_settlement_csv
from schema.graphiql import ASSET_ROUTE, graphiql_asset
from schema.schema import GraphQLApp, schema_file

logger = logging.getLogger(__name__)

READINESS_TIMEOUT_S = 2.0
# Reads sum what is not folded yet, so this only bounds how many changes a read adds up.
TALLY_FOLD_INTERVAL_S = 5.0
SECURITY_EVENT_PRUNE_INTERVAL_S = 3600.0
COMMAND_LOG_SWEEP_INTERVAL_S = 60.0
TOKEN_PULL_ROUND_S = 60.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive", "version": __version__})


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks = {"database": ping_database(runtime.engine), "bus": runtime.bus.ping()}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, READINESS_TIMEOUT_S)
            results[name] = "ok"
        except Exception as error:
            logger.warning("readiness check failed", extra={"check": name, "error": str(error)})
            results[name] = f"unavailable: {type(error).__name__}"
    ready = all(result == "ok" for result in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", **results}, status_code=200 if ready else 503
    )


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return PlainTextResponse(
            "send Authorization: Bearer <CPMS_METRICS_TOKEN>",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        await request.app.state.cluster_gauges.refresh(
            runtime.engine, runtime.settings.node_id, request.app.state.ocpp.connected_count()
        )
    except Exception as error:  # the database being away must not hide the other metrics
        logger.warning("cannot read the cluster gauges: %s", error)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def on_exit_signals(callback: Callable[[], None]) -> None:
    """Call `callback` as soon as SIGTERM or SIGINT arrives, then the handler already in place
    (the ASGI server's, which starts its shutdown). Only the main thread has signals."""
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)

        def handle(received: int, frame: FrameType | None, previous: Any = previous) -> None:
            callback()
            if callable(previous):
                previous(received, frame)

        signal.signal(number, handle)


def reactions() -> Reactions:
    """Who reacts to what the core records (docs/architecture.md#reactions). In the
    transaction: the reaction commits or rolls back with the fact."""
    registry = Reactions()
    # What the stations domain records, in the transaction that records it:
    registry.in_transaction(StationBooted, station_alerts.on_boots)
    registry.in_transaction(StationApproved, station_alerts.on_approvals)
    registry.in_transaction(StationConnectionChanged, station_alerts.on_connections)
    registry.in_transaction(SecurityEventRaised, station_alerts.on_security_events)
    registry.in_transaction(FirmwareStatusReported, station_alerts.on_firmware_statuses)
    # Once a status is stored (group commit writes many stations' statuses at once):
    registry.after_commit(
        ConnectorStatusChanged,
        station_alerts.on_connector_statuses,
        when=station_alerts.may_change_a_fault_alert,
    )
    registry.after_commit(StationEventsReported, station_alerts.on_station_events)
    # A session's completion, once stored (a CDR never fails the station's message):
    registry.after_commit(
        SessionChanged, session_billing.on_sessions, when=session_billing.is_complete
    )
    # A transaction's end takes its charging profiles with it:
    registry.after_commit(
        SessionChanged,
        smart_charging.end_transaction_profiles,
        when=smart_charging.has_ended,
    )
    # Pushes to a roaming partner that fail for long, or work again:
    registry.in_transaction(PartnerDeliveryChanged, partner_alerts.on_partner_deliveries)
    # A command's outcome, in the transaction that logs it:
    registry.in_transaction(CommandCompleted, command_failures.watch_command_failures)
    registry.in_transaction(CommandCompleted, smart_charging.record_accepted_commands)
    return registry


def station_ca(settings: Settings) -> StationCA | None:
    """The CA that signs stations' certificates, if one is configured."""
    if settings.station_ca_cert_file is None or settings.station_ca_key_file is None:
        return None
    try:
        return load_station_ca(
            settings.station_ca_cert_file,
            settings.station_ca_key_file,
            settings.station_certificate_days,
        )
    except ValueError as error:
        raise SettingsError(f"{ENV_PREFIX}STATION_CA_CERT_FILE: {error}") from None


def create_app(settings: Settings | None = None, *, configure_logs: bool = True) -> Starlette:
    """Build the ASGI app; `cpms serve` runs it through uvicorn's factory mode (one call per
    worker process, hence the logging set-up here)."""
    settings = settings or get_settings()
    if settings.workers > 1:
        # Each worker process is a node of its own (presence, command routing).
        settings = settings.model_copy(update={"node_id": f"{settings.node_id}-{os.getpid()}"})
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    engine = configured_engine()
    bus = EventBus(settings.bus_url, settings.redis_prefix)
    grouped = GroupCommit(engine) if isinstance(engine, PostgresEngine) else None
    unit_of_work = UnitOfWorkFactory(engine, bus, grouped, reactions())
    provider = payment_provider(
        settings.stripe_secret_key, settings.stripe_webhook_secret, settings.stripe_api_base
    )
    attempts = FailedAttempts(Limits.of(settings), settings.redis_url, settings.redis_prefix)
    peers = OcpiPeers(
        OutboundPolicy(allow_private=settings.outbound_allow_private),
        settings.public_base_url,
        settings.ocpi_timeout_s,
        settings.ocpi_max_response_bytes,
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        bus=bus,
        unit_of_work=unit_of_work,
        payments=provider,
        attempts=attempts,
        station_ca=station_ca(settings),
        roaming_peers=peers,
        token_issuers=IssuerAuthorization(peers, settings.ocpi_authorize_timeout_s),
    )
    ocpp = OcppServer(runtime)
    gateway = OcppGateway(ocpp, runtime)
    deliveries = OutboxWorker(
        {
            **payments.outbox_handlers(unit_of_work, provider),
            **healing.outbox_handlers(unit_of_work, runtime.outbound),
            **recovery.outbox_handlers(gateway, unit_of_work),
            **watch.outbox_handlers(gateway, unit_of_work),
            **commands.outbox_handlers(gateway, unit_of_work),
        }
    )

    # Sessions left without a CDR (billing failed, or late data completed them) are billed,
    # and payments not settled an hour after their session raise an alert.
    async def reconcile() -> None:
        await session_billing.bill_unbilled(unit_of_work())
        await payments.flag_unsettled(unit_of_work())

    leases = Leases(settings.redis_url, settings.node_id, settings.redis_prefix)
    reconciliation = Periodic("billing reconciliation", 60, reconcile, leases)
    session_watch = Periodic(
        "session watch", 60, lambda: watch.check_sessions(unit_of_work), leases
    )
    # Any node may fold the dashboard tallies; one at a time keeps it cheap.
    tallies = Periodic("tally fold", TALLY_FOLD_INTERVAL_S, tally.fold, leases)
    security_retention = Periodic(
        "security event retention",
        SECURITY_EVENT_PRUNE_INTERVAL_S,
        lambda: stations.prune_security_events(
            timedelta(days=settings.security_event_retention_days)
        ),
        leases,
    )
    # Commands whose node stopped or died before their outcome was written: settled as
    # interrupted, at start-up and then every minute.
    command_log_sweep = Periodic(
        "command log sweep",
        COMMAND_LOG_SWEEP_INTERVAL_S,
        lambda: commands.settle_abandoned(settings.command_timeout_s),
        leases,
    )
    # Each partner's pushes run on one node at a time; a pass lasts at most a few timeouts.
    partner_pushes = PartnerPushes(
        peers,
        leases,
        unit_of_work,
        lease_s=max(60.0, 4 * settings.ocpi_timeout_s),
        session_update_s=settings.ocpi_session_update_s,
    )
    # Partners that list their tokens are pulled from; a round looks for those due at least
    # every minute.
    token_pulls = Periodic(
        "partner token pulls",
        min(settings.ocpi_token_pull_s, TOKEN_PULL_ROUND_S),
        TokenPulls(
            peers, unit_of_work, settings.ocpi_token_pull_s, settings.ocpi_max_pulled_tokens
        ).round,
        leases,
    )
    # Partners' tokens in stations' local authorization lists, kept up to date.
    local_lists = Periodic(
        "local lists",
        settings.local_list_interval_s,
        LocalLists(gateway, unit_of_work, settings.local_list_items_per_message).round,
        leases,
    )
    # Sites' grid capacity shared out among the EVs charging there. A round waits for the
    # stations' answers, so its lease outlasts a command's timeout.
    balancing = Periodic(
        "site balancing",
        settings.balancing_interval_s,
        SiteBalancing(gateway, unit_of_work).round,
        leases,
        lease_s=max(settings.balancing_interval_s * 3, 2 * settings.command_timeout_s + 10),
    )
    graphql = GraphQLApp(runtime, gateway)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started_pool = await start_engine(engine, settings)
        await bus.connect()
        if grouped is not None:
            await grouped.start()
        await ocpp.start()
        on_exit_signals(ocpp.begin_draining)
        await gateway.start()
        await graphql.sockets.start()
        await deliveries.start()
        await reconciliation.start()
        await session_watch.start()
        await tallies.start()
        await security_retention.start()
        await commands.settle_abandoned(settings.command_timeout_s)
        await command_log_sweep.start()
        await partner_pushes.start()
        await local_lists.start()
        await token_pulls.start()
        await balancing.start()
        if settings.ocpp_dry_run:
            logger.warning("OCPP dry run: stations are answered but nothing they send is stored")
        settle_garbage_collector()
        logger.info(
            "cpms started",
            extra={"node_id": settings.node_id, "version": __version__, "bus": bus.url},
        )
        try:
            yield
        finally:
            await balancing.stop()
            await token_pulls.stop()
            await local_lists.stop()
            await partner_pushes.stop()
            await peers.close()
            await command_log_sweep.stop()
            await security_retention.stop()
            await tallies.stop()
            await session_watch.stop()
            await reconciliation.stop()
            await leases.close()
            await attempts.close()
            await deliveries.stop()
            await graphql.sockets.stop()
            await gateway.stop()
            await ocpp.stop()
            if grouped is not None:
                await grouped.stop()
            await bus.disconnect()
            if started_pool:
                await stop_engine(engine)
            logger.info("cpms stopped", extra={"node_id": settings.node_id})

    # GraphQL is a Route plus a WebSocketRoute on one path: a Mount would redirect POST.
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/graphql/schema.graphql", schema_file),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        WebSocketRoute("/ocpp/{identity}", ocpp_websocket),
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/exports/roaming-settlement.csv", roaming_settlement_csv),
        *ocpi_routes(),
    ]
    if settings.graphiql:
        routes.append(Route(ASSET_ROUTE, graphiql_asset))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestTimer, routes=routes),
            Middleware(BodyLimit, max_bytes=settings.max_request_bytes),
            # Browser apps on the listed origins only; the API authenticates with a bearer
            # header, never cookies, so credentials are not allowed.
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-CPMS-Organization"],
                max_age=600,
            ),
        ],
    )
    app.state.cluster_gauges = ClusterGauges()
    app.state.runtime = runtime
    app.state.ocpp = ocpp
    app.state.gateway = gateway
    app.state.outbox = deliveries
    return app
