"""A NUL or an unpaired surrogate sent through the API is an input error, refused before
anything runs; on PostgreSQL a NUL used to fail the write as "Unexpected error."."""

import json

import httpx
import pytest

from db.tables import Site
from tests.schema.test_management import SITE


async def post_raw(server, body: str, token: str) -> dict:
    """The body as written: a client library would not encode a lone surrogate."""
    async with httpx.AsyncClient(base_url=server.http) as client:
        response = await client.post(
            "/graphql",
            content=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text
    return response.json()


def create_site(name_as_json: str) -> str:
    return (
        f'{{"query":{json.dumps(SITE)},'
        f'"variables":{{"input":{{"name":{name_as_json},"timeZone":"Europe/Berlin"}}}}}}'
    )


@pytest.mark.parametrize(
    "body",
    [
        create_site('"De\\u0000pot"'),
        create_site('"De\\ud800pot"'),
        create_site('"De\\udfffpot"'),
        # In the document itself: a GraphQL escape, and a JSON one inside the query string.
        '{"query":"mutation { createSite(input: {name: \\"De\\\\u0000pot\\", '
        'timeZone: \\"UTC\\"}) { __typename } }"}',
        '{"query":"mutation { createSite(input: {name: \\"De\\u0000pot\\", '
        'timeZone: \\"UTC\\"}) { __typename } }"}',
    ],
)
async def test_text_no_database_stores_is_refused_as_invalid_input(
    live_server, organization, api_key, body
):
    admin = await api_key(role="admin")
    answer = await post_raw(live_server, body, admin)
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == "invalid_input"
    assert "NUL" in error["message"]
    assert await Site.count() == 0


async def test_a_surrogate_pair_is_text_like_any_other(live_server, organization, api_key):
    admin = await api_key(role="admin")
    answer = await post_raw(live_server, create_site('"Depot \\ud83d\\ude00"'), admin)
    assert answer["data"]["createSite"]["site"]["name"] == "Depot \U0001f600"
