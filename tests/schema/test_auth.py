"""Who may call the API: API keys, login tokens, roles, organizations, limits, error hygiene."""

import json

import pytest
from graphql import GraphQLError
from ocpp.v16 import call
from strawberry import relay
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.demo import DEMO_PASSWORD, load_demo
from db.tables import ApiKey, ChargingStation, Organization, Site
from schema.errors import UNEXPECTED, _public
from tests.conftest import graphql
from tests.graphql_ws import LEGACY_WS, TRANSPORT_WS, graphql_ws

LOGIN = """
mutation ($organization: String!, $email: String!, $password: String!) {
  login(organization: $organization, email: $email, password: $password) {
    __typename
    ... on LoginSuccess { token expiresAt viewer { role userId user { id email } } }
    ... on UserError { code message }
  }
}
"""
VIEWER = "{ viewer { organization { id slug } role userId apiKeyId } }"
CREATE_KEY = """
mutation ($name: String!, $role: Role!) {
  createApiKey(name: $name, role: $role) {
    __typename
    ... on ApiKeyCreated { key apiKey { id name prefix role revokedAt } }
    ... on UserError { code message }
  }
}
"""
REVOKE_KEY = """
mutation ($id: ID!) {
  revokeApiKey(id: $id) {
    __typename
    ... on ApiKeyRevoked { apiKey { id revokedAt } }
    ... on UserError { code message }
  }
}
"""


@pytest.fixture
async def demo(clean_db, unit_of_work) -> int:
    organization = await load_demo(unit_of_work())
    return int(organization.id)


async def login(server, email: str, password: str = DEMO_PASSWORD, organization="demo") -> dict:
    variables = {"organization": organization, "email": email, "password": password}
    return (await graphql(server, LOGIN, variables))["data"]["login"]


async def test_an_anonymous_caller_is_told_to_sign_in(live_server, demo):
    result = await graphql(live_server, "{ viewer { role } }")
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "not_authenticated"


async def test_an_unknown_key_is_refused_with_a_reason(live_server, demo):
    result = await graphql(live_server, VIEWER, token="cpms_key_0123456789ab_nope")
    assert result["errors"][0]["extensions"]["code"] == "not_authenticated"
    assert "unknown or revoked API key" in result["errors"][0]["message"]


async def test_login_gives_a_token_that_works_until_logout(live_server, demo):
    session = await login(live_server, "operator@demo.example")
    assert session["__typename"] == "LoginSuccess"
    assert session["viewer"]["role"] == "OPERATOR"
    token = session["token"]
    me = await graphql(live_server, VIEWER, token=token)
    assert me["data"]["viewer"]["organization"] == {
        "id": str(relay.GlobalID("Organization", str(demo))),
        "slug": "demo",
    }
    assert me["data"]["viewer"]["userId"] == session["viewer"]["userId"]
    assert relay.GlobalID.from_id(me["data"]["viewer"]["userId"]).type_name == "User"
    out = await graphql(live_server, "mutation { logout { __typename } }", token=token)
    assert out["data"]["logout"]["__typename"] == "LogoutSuccess"
    after = await graphql(live_server, VIEWER, token=token)
    assert after["errors"][0]["extensions"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("organization", "email", "password"),
    [
        ("demo", "operator@demo.example", "wrong password"),
        ("demo", "nobody@demo.example", DEMO_PASSWORD),
        ("elsewhere", "operator@demo.example", DEMO_PASSWORD),
    ],
)
async def test_a_failed_login_says_the_same_whatever_was_wrong(
    live_server, demo, organization, email, password
):
    result = await login(live_server, email, password, organization)
    assert result == {
        "__typename": "NotAuthenticatedError",
        "code": "not_authenticated",
        "message": "wrong organization, email or password",
    }


async def test_an_admin_creates_and_revokes_an_api_key(live_server, demo, api_key):
    admin = await api_key("demo", "admin")
    created = (
        await graphql(live_server, CREATE_KEY, {"name": "billing", "role": "VIEWER"}, admin)
    )["data"]["createApiKey"]
    assert created["__typename"] == "ApiKeyCreated"
    key = created["key"]
    assert created["apiKey"]["prefix"] in key
    key_id = int(relay.GlobalID.from_id(created["apiKey"]["id"]).node_id)
    stored = await ApiKey.select(ApiKey.key_hash).where(ApiKey.id == key_id)
    assert key not in json.dumps(stored, default=str)  # only a hash is kept
    me = await graphql(live_server, VIEWER, token=key)
    assert me["data"]["viewer"]["role"] == "VIEWER"
    assert (await ApiKey.select(ApiKey.last_used_at).where(ApiKey.id == key_id))[0][
        "last_used_at"
    ] is not None
    revoked = await graphql(live_server, REVOKE_KEY, {"id": created["apiKey"]["id"]}, admin)
    assert revoked["data"]["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    refused = await graphql(live_server, VIEWER, token=key)
    assert refused["errors"][0]["extensions"]["code"] == "not_authenticated"


@pytest.mark.parametrize("role", ["operator", "viewer", "driver"])
async def test_only_an_admin_manages_api_keys(live_server, demo, api_key, role):
    caller = await api_key("demo", role)
    result = await graphql(live_server, CREATE_KEY, {"name": "x", "role": "ADMIN"}, caller)
    assert result["data"]["createApiKey"]["__typename"] == "NotPermittedError"
    assert result["data"]["createApiKey"]["code"] == "not_permitted"
    listed = await graphql(live_server, "{ apiKeys { edges { node { id } } } }", token=caller)
    assert listed["errors"][0]["extensions"]["code"] == "not_permitted"


@pytest.mark.parametrize(
    ("role", "may_read_network"),
    [("admin", True), ("operator", True), ("viewer", True), ("driver", False)],
)
async def test_the_role_matrix_for_reading(live_server, demo, api_key, role, may_read_network):
    caller = await api_key("demo", role)
    stations = await graphql(
        live_server,
        "{ sites { totalCount } stations { edges { node { identity } } } }",
        token=caller,
    )
    assert "errors" not in stations  # every role sees the stations (a driver app maps them)
    assert len(stations["data"]["stations"]["edges"]) == 5
    sessions = await graphql(live_server, "{ sessions { edges { cursor } } }", token=caller)
    if may_read_network:
        assert "errors" not in sessions
    else:  # a driver's API key is no person: it has no sessions of its own
        assert sessions["errors"][0]["extensions"]["code"] == "not_permitted"


async def test_one_organization_never_sees_another(live_server, demo, api_key):
    other = Organization(name="Other CPO", slug="other")
    await other.save()
    site = Site(organization=other.id, name="Other's site")
    await site.save()
    await ChargingStation.insert(
        ChargingStation(organization=other.id, site=site.id, identity="OTHER-01")
    )
    theirs = await api_key("other", "admin")
    ours = await api_key("demo", "admin")
    query = (
        "{ sites { edges { node { name stations { edges { node { identity } } } } } }"
        " stations { edges { node { identity } } }"
        ' station(identity: "DEMO-BER-AC-01") { identity } }'
    )
    seen_by_them = (await graphql(live_server, query, token=theirs))["data"]
    assert seen_by_them == {
        "sites": {
            "edges": [
                {
                    "node": {
                        "name": "Other's site",
                        "stations": {"edges": [{"node": {"identity": "OTHER-01"}}]},
                    }
                }
            ]
        },
        "stations": {"edges": [{"node": {"identity": "OTHER-01"}}]},
        "station": None,
    }
    seen_by_us = (await graphql(live_server, query, token=ours))["data"]
    assert "OTHER-01" not in json.dumps(seen_by_us)
    their_keys = await graphql(live_server, "{ apiKeys { edges { node { name } } } }", token=theirs)
    assert [e["node"]["name"] for e in their_keys["data"]["apiKeys"]["edges"]] == ["test admin"]
    our_key_id = (await ApiKey.select(ApiKey.id).where(ApiKey.organization == demo))[0]["id"]
    our_key = str(relay.GlobalID("ApiKey", str(our_key_id)))
    revoked = await graphql(live_server, REVOKE_KEY, {"id": our_key}, theirs)
    assert revoked["data"]["revokeApiKey"]["__typename"] == "NotFoundError"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscription_without_credentials_is_refused(live_server, demo, protocol):
    async with connect(f"{live_server.ws}/graphql", subprotocols=[Subprotocol(protocol)]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = json.loads(await ws.recv())
                assert message["type"] != "connection_ack"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403  # not 1011


async def test_a_subscription_with_a_key_is_accepted(live_server, demo, api_key):
    async with graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, await api_key("demo")):
        pass  # acknowledged: graphql_ws waits for connection_ack


async def test_queries_nested_too_deep_are_refused_but_introspection_works(
    live_server, demo, api_key
):
    key = await api_key("demo", "viewer")
    deep = "{ sites { edges { node" + " { stations { edges { node { site" * 5
    deep += " { name }" + " } } } }" * 5 + " } } }"
    result = await graphql(live_server, deep, token=key)
    assert result["data"] is None
    assert "exceeds maximum operation depth" in result["errors"][0]["message"]
    from graphql import get_introspection_query

    introspection = await graphql(live_server, get_introspection_query(), token=key)
    assert "errors" not in introspection
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"


def test_unexpected_errors_reach_clients_without_internals():
    leaked = GraphQLError("boom", original_error=RuntimeError("password=hunter2 at db.py:12"))
    public = _public(leaked)
    assert public.message == UNEXPECTED
    assert public.extensions == {"code": "internal"}
    assert public.original_error is None


UPDATE_USER = """
mutation ($id: ID!, $input: UserInput!) { updateUser(id: $id, input: $input) {
  __typename ... on UserUpdated { user { role active } } ... on UserError { code message } } }
"""


async def test_an_admin_demotes_and_deactivates_a_user_who_is_signed_out(
    live_server, demo, api_key
):
    session = await login(live_server, "operator@demo.example")
    token, user_id = session["token"], session["viewer"]["user"]["id"]
    admin = await api_key("demo", "admin")
    listed = await graphql(live_server, "{ users { edges { node { email role } } } }", token=admin)
    assert {"email": "operator@demo.example", "role": "OPERATOR"} in [
        e["node"] for e in listed["data"]["users"]["edges"]
    ]
    demoted = await graphql(
        live_server, UPDATE_USER, {"id": user_id, "input": {"role": "VIEWER"}}, admin
    )
    assert demoted["data"]["updateUser"]["user"]["role"] == "VIEWER"
    me = await graphql(live_server, VIEWER, token=token)
    assert me["data"]["viewer"]["role"] == "VIEWER"  # at once, with the same token
    gone = await graphql(
        live_server, UPDATE_USER, {"id": user_id, "input": {"active": False}}, admin
    )
    assert gone["data"]["updateUser"]["user"]["active"] is False
    refused = await graphql(live_server, VIEWER, token=token)
    assert refused["errors"][0]["extensions"]["code"] == "not_authenticated"
    again = await login(live_server, "operator@demo.example")
    assert again["__typename"] == "NotAuthenticatedError"


async def test_an_admin_cannot_lock_themselves_out(live_server, demo):
    session = await login(live_server, "admin@demo.example")
    result = await graphql(
        live_server,
        UPDATE_USER,
        {"id": session["viewer"]["user"]["id"], "input": {"role": "VIEWER"}},
        session["token"],
    )
    assert result["data"]["updateUser"]["__typename"] == "InvalidInputError"


UPDATE_ORGANIZATION = """
mutation ($input: OrganizationInput!) { updateOrganization(input: $input) {
  __typename ... on OrganizationSaved { organization { name defaultCurrency unknownStationPolicy } }
  ... on UserError { code message } } }
"""


async def test_an_admin_sets_the_unknown_station_policy_that_the_ocpp_side_then_applies(
    live_server, organization, api_key, connect_charger
):
    # Unknown stations join the registration organization (a setting): here, "registry".
    admin, operator = await api_key("registry", "admin"), await api_key("registry", "operator")
    denied = await graphql(
        live_server, UPDATE_ORGANIZATION, {"input": {"name": "Mine now"}}, operator
    )
    assert denied["data"]["updateOrganization"]["__typename"] == "NotPermittedError"
    bad = await graphql(
        live_server, UPDATE_ORGANIZATION, {"input": {"defaultCurrency": "EURO"}}, admin
    )
    assert bad["data"]["updateOrganization"]["code"] == "invalid_input"
    saved = await graphql(
        live_server,
        UPDATE_ORGANIZATION,
        {"input": {"defaultCurrency": "chf", "unknownStationPolicy": "PENDING"}},
        admin,
    )
    assert saved["data"]["updateOrganization"]["organization"] == {
        "name": "Registry",
        "defaultCurrency": "CHF",
        "unknownStationPolicy": "PENDING",
    }
    async with connect_charger("CP-STRANGER") as station:
        boot = await station.call(
            call.BootNotification(charge_point_vendor="V", charge_point_model="M")
        )
    assert boot.status == "Pending"
