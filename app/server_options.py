"""How uvicorn serves the app: the options `cpms serve` and the test servers share."""

from __future__ import annotations

import ssl
from typing import Any

from app.config import Settings

# A station that has not answered a websocket ping this long after it is taken for gone.
PONG_TIMEOUT_S = 30


def server_options(settings: Settings) -> dict[str, Any]:
    return {
        **_tls_options(settings),
        # uvicorn's default websocket protocol, telling the app the client certificate.
        "ws": "app.tls:TlsWebSocketProtocol",
        "proxy_headers": True,
        "timeout_graceful_shutdown": 5,
        "ws_ping_interval": settings.ocpp_ping_interval_s,
        "ws_ping_timeout": PONG_TIMEOUT_S,
        "ws_per_message_deflate": settings.ws_compression,
        # A larger websocket message (a station's frame, a GraphQL operation) closes its
        # connection with 1009 instead of being read whole first.
        "ws_max_size": settings.max_request_bytes,
    }


def _tls_options(settings: Settings) -> dict[str, Any]:
    """TLS in uvicorn, when configured; with a client CA, a client certificate is asked for
    and, when one is presented, checked against it (stations without one, security profile 2,
    still connect)."""
    if settings.tls_cert_file is None:
        return {}
    options: dict[str, Any] = {
        "ssl_certfile": str(settings.tls_cert_file),
        "ssl_keyfile": str(settings.tls_key_file),
    }
    if settings.tls_client_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.tls_client_ca_file)
        options["ssl_cert_reqs"] = ssl.CERT_OPTIONAL
    return options
