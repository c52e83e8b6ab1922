"""How uvicorn serves the app: the options `cpms serve` and the test servers share."""

from __future__ import annotations

from typing import Any

from app.config import Settings

# A station that has not answered a websocket ping this long after it is taken for gone.
PONG_TIMEOUT_S = 30


def server_options(settings: Settings) -> dict[str, Any]:
    return {
        "proxy_headers": True,
        "timeout_graceful_shutdown": 5,
        "ws_ping_interval": settings.ocpp_ping_interval_s,
        "ws_ping_timeout": PONG_TIMEOUT_S,
        "ws_per_message_deflate": settings.ws_compression,
        # A larger websocket message (a station's frame, a GraphQL operation) closes its
        # connection with 1009 instead of being read whole first.
        "ws_max_size": settings.max_request_bytes,
    }
