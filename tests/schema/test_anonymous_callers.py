"""What a caller without a credential may learn: the schema by default; with
CPMS_ANONYMOUS_INTROSPECTION=false neither introspection, nor suggestions, nor the SDL file.
And /metrics behind a token when CPMS_METRICS_TOKEN is set."""

import httpx
import pytest

from tests.conftest import graphql, serving

INTROSPECT = "{ __schema { queryType { name } } }"
TYPO = "{ stationz { totalCount } }"


@pytest.fixture
async def closed_server(settings, database):
    update = {"anonymous_introspection": False, "metrics_token": "scrape-me-please"}
    async with serving(settings.model_copy(update=update)) as server:
        yield server


async def test_an_anonymous_caller_learns_nothing_of_the_schema_when_closed(
    closed_server, organization, api_key
):
    anonymous = await graphql(closed_server, INTROSPECT)
    assert anonymous.get("data") is None and "introspection" in anonymous["errors"][0]["message"]
    typo = await graphql(closed_server, TYPO)
    assert "Did you mean" not in typo["errors"][0]["message"]
    async with httpx.AsyncClient(base_url=closed_server.http) as client:
        assert (await client.get("/graphql/schema.graphql")).status_code == 401

    key = await api_key(role="viewer")
    signed_in = await graphql(closed_server, INTROSPECT, token=key)
    assert signed_in["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert "Did you mean" in (await graphql(closed_server, TYPO, token=key))["errors"][0]["message"]
    async with httpx.AsyncClient(base_url=closed_server.http) as client:
        sdl = await client.get(
            "/graphql/schema.graphql", headers={"Authorization": f"Bearer {key}"}
        )
    assert sdl.status_code == 200 and "type Query" in sdl.text


async def test_by_default_anyone_may_introspect(live_server):
    assert (await graphql(live_server, INTROSPECT))["data"]["__schema"]["queryType"]["name"] == (
        "Query"
    )
    assert "Did you mean" in (await graphql(live_server, TYPO))["errors"][0]["message"]


async def test_metrics_need_the_token_when_one_is_set(closed_server):
    async with httpx.AsyncClient(base_url=closed_server.http) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert scraped.status_code == 200 and "cpms_" in scraped.text
