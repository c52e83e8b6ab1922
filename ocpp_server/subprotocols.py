"""OCPP websocket subprotocol negotiation."""

from __future__ import annotations

from collections.abc import Iterable

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"

# Newest first: the server picks the newest version both sides speak.
SUPPORTED_SUBPROTOCOLS: tuple[str, ...] = (OCPP201, OCPP16)


def choose_subprotocol(offered: Iterable[str]) -> str | None:
    """The newest supported subprotocol the charger offered, or None if none matches."""
    offered_set = {protocol.strip().lower() for protocol in offered}
    return next((p for p in SUPPORTED_SUBPROTOCOLS if p in offered_set), None)
