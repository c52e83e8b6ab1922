"""Prometheus metrics, served at /metrics."""

from prometheus_client import Counter, Gauge

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
    "OCPP frames left out of the message log (buffer full while the database was away)",
)
OCPP_FRAMES_THROTTLED = Counter(
    "cpms_ocpp_frames_throttled_total",
    "OCPP frames read late because their station exceeded CPMS_OCPP_FRAMES_PER_S",
)
