"""URLs that tenants set cannot make the CPMS call inside its own network: refused when set,
and checked again, by where the host resolves, when called."""

import pytest
from aiohttp import web

from app import outbox
from app.healing.notifications import deliverer
from app.outbound import ForbiddenDestination, OutboundPolicy
from db.tables import Organization
from tests.conftest import TEST_ORGANIZATION, free_port, graphql, serving

SECRET = "a-webhook-secret-of-some-length"
SET_WEBHOOK = """
mutation ($url: String!) { updateOrganization(input: {alertWebhookUrl: $url,
  alertWebhookSecret: "a-webhook-secret-of-some-length"}) {
  __typename ... on OrganizationSaved { organization { alertWebhookUrl } }
  ... on UserError { code message } } }
"""


@pytest.fixture
async def strict_server(settings, database):
    """A server with the default rule (the shared test server allows local receivers)."""
    async with serving(settings.model_copy(update={"outbound_allow_private": False})) as server:
        yield server


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/alerts",  # not https
        "https://127.0.0.1:8000/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:5432/",
        "https://[::ffff:10.0.0.7]/",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://100.64.0.1/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "ftp://hooks.example.com/alerts",
    ],
)
async def test_an_inward_or_plain_http_webhook_is_refused_and_nothing_changes(
    strict_server, organization, api_key, url
):
    admin = await api_key()
    result = await graphql(strict_server, SET_WEBHOOK, {"url": url}, admin)
    assert result["data"]["updateOrganization"]["code"] == "invalid_input", result
    [row] = (
        await Organization.select(Organization.settings)
        .where(Organization.slug == TEST_ORGANIZATION)
        .output(load_json=True)
    )
    assert not (row["settings"].get("alerts") or {}).get("webhook_url")


async def test_a_public_https_webhook_is_accepted(strict_server, organization, api_key):
    url = "https://hooks.example.com/cpms/alerts"
    result = await graphql(strict_server, SET_WEBHOOK, {"url": url}, await api_key())
    saved = result["data"]["updateOrganization"]
    assert saved["organization"]["alertWebhookUrl"] == url


@pytest.fixture
async def receiver():
    """A local HTTP server counting the requests it gets."""
    hits: list[str] = []

    async def take(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", take)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port, hits
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("host", ["2130706433", "127.1"])  # both resolve to 127.0.0.1
async def test_a_name_that_resolves_inward_is_not_called(receiver, host):
    port, hits = receiver
    OutboundPolicy().check_url(f"https://{host}:{port}/hook")  # no literal address: passes
    async with OutboundPolicy().client(5) as client:
        with pytest.raises(ForbiddenDestination):
            await client.post(f"https://{host}:{port}/hook")
        with pytest.raises(ForbiddenDestination):
            await client.post(f"http://{host}:{port}/hook")
    assert hits == []


async def test_a_webhook_stored_before_the_rule_is_not_called(receiver, organization):
    port, hits = receiver
    url = f"http://127.0.0.1:{port}/hook"
    await Organization.update(
        {Organization.settings: {"alerts": {"webhook_url": url, "webhook_secret": SECRET}}}
    ).where(Organization.id == organization)
    payload = {"organization_id": organization, "body": {"event": "alert.open"}}
    with pytest.raises(outbox.Retry):
        await deliverer(OutboundPolicy())(payload)
    assert hits == []
    await deliverer(OutboundPolicy(allow_private=True))(payload)  # where allowed, it is sent
    assert hits == ["/hook"]
