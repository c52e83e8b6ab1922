"""TLS as the app sees it: the client certificate a websocket was opened with.

uvicorn checks a client certificate during the handshake (against CPMS_TLS_CLIENT_CA_FILE) but
does not tell the app which one it was. This websocket protocol adds the ASGI TLS extension
(`scope["extensions"]["tls"]`) to every websocket's scope, so that a station's connection can
be matched against the name in its certificate (OCPP security profile 3)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# The ASGI TLS extension's version numbers of the TLS versions.
TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


class TlsWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (the one it picks by default), plus the TLS extension on
    connections made over TLS."""

    async def run_asgi(self) -> None:
        ssl_object = self.transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject):
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions["tls"] = tls_extension(ssl_object)
        await super().run_asgi()


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The scope's `tls` entry: a certificate the client presented was verified by the
    handshake (it would have failed otherwise)."""
    der = ssl_object.getpeercert(binary_form=True)
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": None,
    }


def client_certificate(scope: Mapping[str, Any]) -> str | None:
    """The verified client certificate (PEM) a connection was opened with, if any."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return chain[0] if chain else None
