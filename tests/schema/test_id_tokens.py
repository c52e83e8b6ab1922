"""Id tokens through the API, proved by a real station authorizing them."""

import pytest
from ocpp.v16 import call
from strawberry import relay

from app.auth.models import Role
from app.auth.service import provision_user
from db.tables import IdToken, Organization
from tests.conftest import TEST_ORGANIZATION, graphql

CREATE = """
mutation ($uid: String!, $type: IdTokenType!, $input: IdTokenInput) {
  createIdToken(uid: $uid, type: $type, input: $input) {
    __typename
    ... on IdTokenSaved { idToken { id uid type status user { email } } }
    ... on UserError { code message }
  }
}
"""
UPDATE = """
mutation ($id: ID!, $input: IdTokenInput!) {
  updateIdToken(id: $id, input: $input) {
    __typename ... on IdTokenSaved { idToken { status } } ... on UserError { code message }
  }
}
"""


async def test_an_operator_issues_and_blocks_a_card_that_a_station_checks(
    live_server, organization, register, api_key, connect_charger
):
    operator = await api_key(role="operator")
    created = (
        await graphql(live_server, CREATE, {"uid": "04AABBCC", "type": "ISO14443"}, operator)
    )["data"]["createIdToken"]
    assert created["__typename"] == "IdTokenSaved"
    await register("CP-AUTH")
    async with connect_charger("CP-AUTH") as station:
        accepted = await station.call(call.Authorize(id_tag="04AABBCC"))
        blocked = await graphql(
            live_server,
            UPDATE,
            {"id": created["idToken"]["id"], "input": {"status": "BLOCKED"}},
            operator,
        )
        refused = await station.call(call.Authorize(id_tag="04AABBCC"))
    assert accepted.id_tag_info["status"] == "Accepted"
    assert blocked["data"]["updateIdToken"]["idToken"]["status"] == "BLOCKED"
    assert refused.id_tag_info["status"] == "Blocked"
    deleted = await graphql(
        live_server,
        "mutation ($id: ID!) { deleteIdToken(id: $id) { __typename } }",
        {"id": created["idToken"]["id"]},
        operator,
    )
    assert deleted["data"]["deleteIdToken"]["__typename"] == "Deleted"
    assert await IdToken.count() == 0


@pytest.mark.parametrize(
    ("uid", "type", "input", "code"),
    [
        ("", "ISO14443", None, "invalid_input"),
        ("X" * 37, "ISO14443", None, "invalid_input"),
        ("04AA", "Barcode", None, None),  # not an IdTokenType: refused before it runs
        ("04AA", "ISO14443", {"status": "Maybe"}, None),
        ("04AA", "ISO14443", {"userId": str(relay.GlobalID("User", "999999"))}, "not_found"),
        ("DUP", "ISO14443", None, "already_exists"),
    ],
)
async def test_bad_token_input_is_typed_and_writes_nothing(
    live_server, organization, api_key, uid, type, input, code
):
    await IdToken.insert(IdToken(organization=organization, uid="DUP"))
    result = await graphql(
        live_server, CREATE, {"uid": uid, "type": type, "input": input}, await api_key()
    )
    if code is None:
        assert result["data"] is None and "IdToken" in result["errors"][0]["message"]
    else:
        assert result["data"]["createIdToken"]["code"] == code
    assert await IdToken.count() == 1


async def test_a_driver_lists_only_their_tokens_and_a_viewer_changes_none(
    live_server, organization, unit_of_work, api_key
):
    dana = await provision_user(
        unit_of_work(), TEST_ORGANIZATION, "dana@example.com", Role.DRIVER, "password-1"
    )
    await IdToken.insert(
        IdToken(organization=organization, uid="DANA", user=dana.id),
        IdToken(organization=organization, uid="SOMEONE-ELSE"),
    )
    login = await graphql(
        live_server,
        'mutation { login(organization: "acme", email: "dana@example.com", '
        'password: "password-1") { ... on LoginSuccess { token } } }',
    )
    token = login["data"]["login"]["token"]
    listed = await graphql(live_server, "{ idTokens { edges { node { uid } } } }", token=token)
    assert [e["node"]["uid"] for e in listed["data"]["idTokens"]["edges"]] == ["DANA"]
    viewer = await api_key(role="viewer")
    denied = await graphql(live_server, CREATE, {"uid": "NEW", "type": "ISO14443"}, viewer)
    assert denied["data"]["createIdToken"]["__typename"] == "NotPermittedError"
    await Organization.insert(Organization(name="Other", slug="other"))
    everyone = await graphql(
        live_server, "{ idTokens { edges { node { uid } } } }", token=await api_key("other")
    )
    assert everyone["data"]["idTokens"]["edges"] == []
