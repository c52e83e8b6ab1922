"""A site's grid connection through the API: what an operator describes, and bad values
refused with nothing changed."""

import pytest

from db.tables import Site
from tests.conftest import graphql

GRID = "id gridCapacityA gridPhases minCurrentA loadBalancing"
CREATE = f"""
mutation ($input: SiteInput!) {{ createSite(input: $input) {{
  __typename ... on SiteSaved {{ site {{ {GRID} }} }} ... on UserError {{ code message }} }} }}
"""
UPDATE = f"""
mutation ($id: ID!, $input: SiteInput!) {{ updateSite(id: $id, input: $input) {{
  __typename ... on SiteSaved {{ site {{ {GRID} }} }} ... on UserError {{ code message }} }} }}
"""


async def test_a_site_is_described_by_its_grid_connection(live_server, organization, api_key):
    admin = await api_key(role="admin")
    created = (await graphql(live_server, CREATE, {"input": {"name": "Depot"}}, admin))["data"]
    site = created["createSite"]["site"]
    assert site == {
        "id": site["id"],
        "gridCapacityA": None,
        "gridPhases": 3,
        "minCurrentA": "6.0",
        "loadBalancing": "EQUAL",
    }
    grid = {
        "gridCapacityA": 100,
        "gridPhases": 1,
        "minCurrentA": "8.5",
        "loadBalancing": "PRIORITY",
    }
    updated = await graphql(live_server, UPDATE, {"id": site["id"], "input": grid}, admin)
    assert updated["data"]["updateSite"]["site"] == {"id": site["id"], **grid}
    # Not something roaming partners see: the site's Location has not changed for them.
    assert await Site.select(Site.updated_at).output(as_list=True) == [None]


@pytest.mark.parametrize(
    "grid",
    [
        {"gridCapacityA": -1},
        {"gridCapacityA": 100_001},
        {"gridPhases": 2},
        {"gridPhases": None},
        {"minCurrentA": "5.9"},
        {"minCurrentA": "80.1"},
        {"minCurrentA": "6.05"},
        {"minCurrentA": None},
        {"loadBalancing": None},
    ],
)
async def test_a_grid_connection_that_cannot_be_is_refused_and_nothing_changes(
    live_server, organization, api_key, grid
):
    admin = await api_key(role="admin")
    created = await graphql(
        live_server, CREATE, {"input": {"name": "Depot", "gridCapacityA": 63}}, admin
    )
    site = created["data"]["createSite"]["site"]
    refused = await graphql(
        live_server, UPDATE, {"id": site["id"], "input": {"name": "Renamed", **grid}}, admin
    )
    assert refused["data"]["updateSite"]["code"] == "invalid_input"
    assert await Site.select(Site.name, Site.grid_capacity_a) == [
        {
            "name": "Depot",
            "grid_capacity_a": 63,
        }
    ]
    created_badly = await graphql(live_server, CREATE, {"input": {"name": "Yard", **grid}}, admin)
    assert created_badly["data"]["createSite"]["code"] == "invalid_input"
    assert await Site.count() == 1
