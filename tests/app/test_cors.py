"""CORS: browser apps on the listed origins may call the API; no other origin is answered."""

import httpx

from tests.conftest import serving

DASHBOARD = "https://dashboard.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-cpms-organization",
}


async def test_only_listed_origins_get_cors_headers(settings, database):
    listed = settings.model_copy(update={"cors_origins": f"{DASHBOARD}, https://app.example.com"})
    async with serving(listed) as server, httpx.AsyncClient(base_url=server.http) as client:
        allowed = await client.options("/graphql", headers={"Origin": DASHBOARD, **PREFLIGHT})
        other = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        query = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": DASHBOARD}
        )
        other_query = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == DASHBOARD
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "x-cpms-organization"):
        assert header in allowed_headers
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in allowed.headers
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert query.headers["access-control-allow-origin"] == DASHBOARD
    assert "access-control-allow-origin" not in other_query.headers


async def test_no_origin_is_allowed_by_default(settings, database):
    assert settings.cors_origins == ""
    async with serving(settings) as server, httpx.AsyncClient(base_url=server.http) as client:
        preflight = await client.options("/graphql", headers={"Origin": DASHBOARD, **PREFLIGHT})
        query = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": DASHBOARD}
        )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in query.headers
