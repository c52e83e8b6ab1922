"""Alerts sent to the operator's own systems (e-mail, chat, tickets) through a webhook: one
signed POST per alert opened or resolved, delivered through the outbox and retried until the
receiver answers 2xx.

The signature works like Stripe's: header `X-CPMS-Signature: t=<unix time>,v1=<hex>` where
v1 is HMAC-SHA256 of `<t>.<body>` with the organization's webhook secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from app import outbox
from app.auth import service as auth
from app.errors import CPMSError
from app.healing.models import AlertView
from app.outbound import OutboundPolicy

NOTIFY = "alert.notify"
SIGNATURE_HEADER = "X-CPMS-Signature"
TIMEOUT_S = 10.0


def signature(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def alert_payload(alert: AlertView) -> dict[str, Any]:
    return {
        "event": f"alert.{alert.status}",  # alert.open | alert.resolved
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "severity": alert.severity,
            "status": alert.status,
            "message": alert.message,
            "details": alert.details,
            "station_id": alert.station_id,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        },
    }


async def queue(organization_id: int, alert: AlertView) -> None:
    """Queue the alert's notification if the organization has a webhook. Call inside the
    unit of work that changed the alert."""
    settings = await auth.organization_settings(organization_id)
    if not (settings.get("alerts") or {}).get("webhook_url"):
        return
    await outbox.enqueue(
        organization_id,
        NOTIFY,
        {"organization_id": organization_id, "body": alert_payload(alert)},
        f"alert-notify:{alert.id}:{alert.status}",
    )


def deliverer(outbound: OutboundPolicy) -> outbox.Handler:
    async def deliver(payload: dict[str, Any]) -> None:
        await _deliver(payload, outbound)

    return deliver


async def _deliver(payload: dict[str, Any], outbound: OutboundPolicy) -> None:
    """POST the notification to the webhook configured now; anything but 2xx is retried, and
    a webhook no longer allowed is not called (retried in case the rule is changed)."""
    settings = (await auth.organization_settings(payload["organization_id"])).get("alerts") or {}
    url, secret = settings.get("webhook_url"), settings.get("webhook_secret")
    if not url or not secret:
        return  # turned off since: nothing to deliver
    body = json.dumps(payload["body"], separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body, int(time.time())),
    }
    try:
        outbound.check_url(url, "the alert webhook")
        async with outbound.client(TIMEOUT_S) as client:
            response = await client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, CPMSError) as error:
        raise outbox.Retry(f"alert webhook not reached: {error}") from error
    if not response.is_success:
        raise outbox.Retry(f"alert webhook answered {response.status_code}")
