"""Prometheus metrics, served at /metrics."""

import re

from prometheus_client import Counter, Gauge, Histogram

OCPP_CONNECTIONS = Gauge(
    "cpms_ocpp_connections", "Open OCPP websocket connections on this process", ["protocol"]
)
OCPP_CONNECTIONS_DEFERRED = Counter(
    "cpms_ocpp_connections_deferred_total",
    "Station connections turned away to retry later: the node was admitting too many at once",
)
OCPP_FRAMES_RECEIVED = Counter(
    "cpms_ocpp_frames_received_total", "OCPP frames received", ["protocol"]
)
EVENTS_PUBLISHED = Counter("cpms_events_published_total", "Domain events published", ["kind"])
GRAPHQL_SUBSCRIPTIONS = Gauge(
    "cpms_graphql_subscriptions", "Active GraphQL subscriptions on this process"
)
MESSAGE_LOG_DROPPED = Counter(
    "cpms_ocpp_message_log_dropped_total",
    "OCPP frames left out of the message log: the oldest of a full buffer while the database "
    "was away, or a frame the database refused",
)
OCPP_FRAMES_THROTTLED = Counter(
    "cpms_ocpp_frames_throttled_total",
    "OCPP frames read late because their station exceeded CPMS_OCPP_FRAMES_PER_S",
)
AUTH_LOCKOUTS = Counter(
    "cpms_auth_lockouts_total",
    "Accounts, station identities and source addresses locked out after too many failed "
    "credential checks",
    ["kind"],
)
AUTH_REFUSED_WHILE_LOCKED = Counter(
    "cpms_auth_refused_while_locked_total",
    "Logins and station connections refused unchecked because their key was locked out",
)

# Request latencies. Labels stay bounded: routes are the app's own, operation names are capped
# (see operation_label), actions and results are the command set's.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
HTTP_REQUEST_SECONDS = Histogram(
    "cpms_http_request_seconds",
    "HTTP requests by route, method and status class",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_OPERATION_SECONDS = Histogram(
    "cpms_graphql_operation_seconds",
    "GraphQL operations by name (anonymous, or other beyond the first 200 names) and outcome",
    ["operation", "type", "outcome"],
    buckets=LATENCY_BUCKETS,
)
COMMAND_SECONDS = Histogram(
    "cpms_command_seconds",
    "Remote commands from sending to the station's answer, by action and result",
    ["action", "result"],
    buckets=LATENCY_BUCKETS,
)
# Read when scraped (see app.monitoring).
DB_POOL_CONNECTIONS = Gauge(
    "cpms_db_pool_connections", "PostgreSQL pool connections of this process", ["state"]
)
DB_POOL_WAITING = Gauge(
    "cpms_db_pool_waiting", "Tasks of this process waiting for a PostgreSQL pool connection"
)
OUTBOX_PENDING = Gauge(
    "cpms_outbox_pending", "Outbox messages waiting for delivery (whole cluster: use max())"
)
OUTBOX_OLDEST_AGE_SECONDS = Gauge(
    "cpms_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox message waiting for delivery (whole cluster: use max())",
)
ACTIVE_SESSIONS = Gauge(
    "cpms_active_sessions", "Charging sessions in progress (whole cluster: use max())"
)
CONNECTED_STATIONS = Gauge("cpms_connected_stations", "Stations connected to this node", ["node"])

MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_operation_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """A client-chosen operation name as a label: the first MAX_OPERATION_NAMES well-formed
    names as they are, then `other`, so that no client can grow the metric without bound."""
    if not name:
        return "anonymous"
    if name in _operation_names:
        return name
    if not _OPERATION_NAME.match(name) or len(_operation_names) >= MAX_OPERATION_NAMES:
        return "other"
    _operation_names.add(name)
    return name
