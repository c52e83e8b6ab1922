"""The platform level: a platform key manages organizations and sees inside none, unless it
says on whose behalf it acts; a suspended organization's credentials stop working."""

import httpx
import pytest

from app.auth.organizations import provision_platform_key
from db.tables import Organization
from tests.conftest import TEST_ORGANIZATION, graphql

CREATE = """
mutation ($input: NewOrganizationInput!) { createOrganization(input: $input) {
  __typename
  ... on OrganizationCreated { organization { id slug name defaultCurrency countryCode partyId } }
  ... on UserError { code message } } }
"""
UPDATE = """
mutation ($id: ID, $input: OrganizationInput!) { updateOrganization(id: $id, input: $input) {
  __typename ... on OrganizationSaved { organization { slug countryCode partyId } }
  ... on UserError { code message } } }
"""
SUSPEND = """
mutation ($id: ID!, $suspended: Boolean!) { suspendOrganization(id: $id, suspended: $suspended) {
  __typename ... on OrganizationCreated { organization { slug suspendedAt } }
  ... on UserError { code message } } }
"""
INSIDE = "{ stations(first: 5) { edges { node { identity } } } }"
NEW_STATION = """
mutation { createStation(identity: "CP-PLATFORM") {
  __typename ... on StationSaved { station { identity } } ... on UserError { code } } }
"""


@pytest.fixture
async def platform_key(unit_of_work, organization) -> str:
    return (await provision_platform_key(unit_of_work(), "hosting")).secret


async def ask(server, query, variables=None, token=None, acting_for=None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if acting_for:
        headers["X-CPMS-Organization"] = acting_for
    async with httpx.AsyncClient(base_url=server.http) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    return response.json()


def organizations(listed: dict) -> list[dict]:
    return [edge["node"] for edge in listed["data"]["organizations"]["edges"]]


async def test_a_platform_key_creates_organizations_and_sees_inside_none(
    live_server, platform_key, register
):
    await register("CP-ACME-1")
    created = await graphql(
        live_server,
        CREATE,
        {"input": {"slug": "volt", "name": "Volt GmbH", "countryCode": "de", "partyId": "vlt"}},
        platform_key,
    )
    organization = created["data"]["createOrganization"]["organization"]
    assert (organization["slug"], organization["countryCode"], organization["partyId"]) == (
        "volt",
        "DE",
        "VLT",
    )
    listed = await graphql(
        live_server, "{ organizations { edges { node { slug } } } }", token=platform_key
    )
    assert [edge["node"]["slug"] for edge in listed["data"]["organizations"]["edges"]] == [
        TEST_ORGANIZATION,
        "registry",
        "volt",
    ]
    viewer = await graphql(
        live_server, "{ viewer { platform organization { slug } } }", None, platform_key
    )
    assert viewer["data"]["viewer"] == {"platform": True, "organization": None}
    inside = await graphql(live_server, INSIDE, token=platform_key)
    assert inside["data"] is None
    assert inside["errors"][0]["extensions"]["code"] == "not_permitted"
    refused = await graphql(live_server, NEW_STATION, token=platform_key)
    assert refused["data"]["createStation"]["__typename"] == "NotPermittedError"


async def test_a_platform_key_acts_for_an_organization_only_when_it_says_so(
    live_server, platform_key, register
):
    await register("CP-ACME-1")
    inside = await ask(live_server, INSIDE, token=platform_key, acting_for=TEST_ORGANIZATION)
    assert [edge["node"]["identity"] for edge in inside["data"]["stations"]["edges"]] == [
        "CP-ACME-1"
    ]
    created = await ask(live_server, NEW_STATION, token=platform_key, acting_for=TEST_ORGANIZATION)
    assert created["data"]["createStation"]["__typename"] == "StationSaved"
    # Acting for an organization gives an admin's rights there, not the platform's.
    nested = await ask(
        live_server,
        CREATE,
        {"input": {"slug": "other", "name": "Other"}},
        platform_key,
        acting_for=TEST_ORGANIZATION,
    )
    assert nested["data"]["createOrganization"]["__typename"] == "NotPermittedError"
    unknown = await ask(live_server, INSIDE, token=platform_key, acting_for="nobody")
    assert unknown["errors"][0]["extensions"]["code"] == "not_authenticated"


async def test_an_organization_admin_cannot_act_as_the_platform(live_server, api_key):
    admin = await api_key(role="admin")
    result = await graphql(live_server, CREATE, {"input": {"slug": "x1", "name": "X"}}, admin)
    assert result["data"]["createOrganization"]["__typename"] == "NotPermittedError"
    listed = await graphql(
        live_server, "{ organizations { edges { node { slug } } } }", token=admin
    )
    assert listed["errors"][0]["extensions"]["code"] == "not_permitted"
    acting = await ask(live_server, INSIDE, token=admin, acting_for="registry")
    assert acting["errors"][0]["extensions"]["code"] == "not_authenticated"
    assert await Organization.count() == 2


async def test_updates_and_bad_input(live_server, platform_key, api_key):
    listed = await graphql(
        live_server, "{ organizations { edges { node { id slug } } } }", token=platform_key
    )
    acme = next(o for o in organizations(listed) if o["slug"] == TEST_ORGANIZATION)
    no_id = await graphql(live_server, UPDATE, {"input": {"name": "X"}}, platform_key)
    assert no_id["data"]["updateOrganization"]["code"] == "invalid_input"
    identity = {"countryCode": "NL", "partyId": "ACM"}
    changed = await graphql(
        live_server, UPDATE, {"id": acme["id"], "input": identity}, platform_key
    )
    assert changed["data"]["updateOrganization"]["organization"] == {
        "slug": TEST_ORGANIZATION,
        "countryCode": "NL",
        "partyId": "ACM",
    }
    taken = await graphql(
        live_server,
        CREATE,
        {"input": {"slug": "copy", "name": "Copy", **identity}},
        platform_key,
    )
    assert taken["data"]["createOrganization"]["code"] == "already_exists"
    for bad in (
        {"slug": "Bad Slug", "name": "X"},
        {"slug": "ok-slug", "name": "X", "countryCode": "DEU", "partyId": "ABC"},
        {"slug": "ok-slug", "name": "X", "countryCode": "DE"},
        {"slug": "ok-slug", "name": "X", "defaultCurrency": "EURO"},
        {"slug": TEST_ORGANIZATION, "name": "Again"},
    ):
        result = await graphql(live_server, CREATE, {"input": bad}, platform_key)
        assert result["data"]["createOrganization"]["__typename"] in (
            "InvalidInputError",
            "AlreadyExistsError",
        ), bad
    assert await Organization.count() == 2
    # An admin changes their own organization without naming it, and no other one.
    admin = await api_key(role="admin")
    own = await graphql(live_server, UPDATE, {"input": {"name": "Acme 2"}}, admin)
    assert own["data"]["updateOrganization"]["__typename"] == "OrganizationSaved"
    registry = next(o for o in organizations(listed) if o["slug"] == "registry")
    other = await graphql(
        live_server, UPDATE, {"id": registry["id"], "input": {"name": "Mine"}}, admin
    )
    assert other["data"]["updateOrganization"]["__typename"] == "NotFoundError"


async def test_a_suspended_organization_is_refused_until_the_suspension_is_lifted(
    live_server, platform_key, api_key
):
    viewer = await api_key(role="viewer")
    listed = await graphql(
        live_server, "{ organizations { edges { node { id slug } } } }", token=platform_key
    )
    acme = next(o for o in organizations(listed) if o["slug"] == TEST_ORGANIZATION)
    assert "errors" not in await graphql(live_server, INSIDE, token=viewer)
    suspended = await graphql(
        live_server, SUSPEND, {"id": acme["id"], "suspended": True}, platform_key
    )
    assert suspended["data"]["suspendOrganization"]["organization"]["suspendedAt"]
    refused = await graphql(live_server, INSIDE, token=viewer)
    assert refused["errors"][0]["extensions"]["code"] == "not_authenticated"
    assert "suspended" in refused["errors"][0]["message"]
    await graphql(live_server, SUSPEND, {"id": acme["id"], "suspended": False}, platform_key)
    assert "errors" not in await graphql(live_server, INSIDE, token=viewer)
