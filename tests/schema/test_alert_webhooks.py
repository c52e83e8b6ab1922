"""Alerts reach the operator's own systems: signed POSTs, retried until they are taken."""

import asyncio
import hashlib
import hmac
import json

from aiohttp import web
from ocpp.v16 import call

from db.tables import Organization
from tests.conftest import REGISTRY_ORGANIZATION, free_port, graphql

SECRET = "a-webhook-secret-of-some-length"
SETTINGS = """
mutation ($input: OrganizationInput!) { updateOrganization(input: $input) {
  __typename ... on OrganizationSaved { organization { alertWebhookUrl } }
  ... on UserError { code message } } }
"""


def verified(request_body: bytes, header: str) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        SECRET.encode(), f"{fields['t']}.".encode() + request_body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


async def test_alerts_are_posted_signed_and_retried(
    live_server, organization, api_key, connect_charger
):
    received: list[dict] = []
    attempts = 0

    async def receive(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=503)  # the receiver is down at first
        body = await request.read()
        assert verified(body, request.headers["X-CPMS-Signature"])
        received.append(json.loads(body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await Organization.update({Organization.unknown_station_policy: "pending"}).where(
            Organization.slug == REGISTRY_ORGANIZATION
        )
        admin = await api_key(REGISTRY_ORGANIZATION, "admin")
        no_secret = await graphql(
            live_server, SETTINGS, {"input": {"alertWebhookUrl": "http://x.example/h"}}, admin
        )
        assert no_secret["data"]["updateOrganization"]["code"] == "invalid_input"
        saved = await graphql(
            live_server,
            SETTINGS,
            {
                "input": {
                    "alertWebhookUrl": f"http://127.0.0.1:{port}/hook",
                    "alertWebhookSecret": SECRET,
                }
            },
            admin,
        )
        assert saved["data"]["updateOrganization"]["organization"] == {
            "alertWebhookUrl": f"http://127.0.0.1:{port}/hook"
        }
        async with connect_charger("CP-HOOKED") as station:
            await station.call(
                call.BootNotification(charge_point_vendor="V", charge_point_model="M")
            )
        for _ in range(100):  # the first try fails; the retry comes about 2 s later
            if received:
                break
            await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
    assert attempts >= 2
    [notification] = received
    assert notification["event"] == "alert.open"
    assert notification["alert"]["kind"] == "station_pending"
    assert notification["alert"]["severity"] == "info"
