"""A credential that stops holding stops working on the websockets it opened too: each
operation checks it again, and its sockets are closed with 4403 within 2 s."""

import asyncio
import json
from datetime import timedelta

import pytest
from strawberry import relay
from websockets.exceptions import ConnectionClosed

from app.auth.credentials import api_key_prefix
from app.demo import DEMO_PASSWORD, load_demo
from app.timeparse import utcnow
from db.tables import ApiKey, LoginToken, User
from schema.open_sockets import REVOKED_CLOSE_CODE
from tests.conftest import graphql
from tests.graphql_ws import LEGACY_WS, TRANSPORT_WS, graphql_ws

CONNECTIONS = "subscription { stationConnections { identity connected } }"
LOGIN = """
mutation ($email: String!, $password: String!) {
  login(organization: "demo", email: $email, password: $password) {
    ... on LoginSuccess { token }
  }
}
"""
REVOKE_KEY = "mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }"
UPDATE_USER = """
mutation ($id: ID!, $input: UserInput!) { updateUser(id: $id, input: $input) { __typename } }
"""


@pytest.fixture
async def demo(clean_db, unit_of_work) -> int:
    return int((await load_demo(unit_of_work())).id)


async def closed_code(connection, within_s: float = 2.0) -> int:
    """The code the server closes the socket with, within `within_s` (keep-alives skipped)."""

    async def read_until_closed() -> None:
        while True:
            await connection.recv()

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(read_until_closed(), within_s)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def still_open(connection) -> bool:
    await connection.send(json.dumps({"type": "ping"}))
    while True:
        message = json.loads(await asyncio.wait_for(connection.recv(), 2))
        if message["type"] == "pong":
            return True


async def key_id(secret: str) -> str:
    prefix = api_key_prefix(secret)
    row = await ApiKey.select(ApiKey.id).where(ApiKey.prefix == prefix).first()
    assert row is not None
    return str(relay.GlobalID("ApiKey", str(row["id"])))


async def login(server, email: str) -> str:
    variables = {"email": email, "password": DEMO_PASSWORD}
    return (await graphql(server, LOGIN, variables))["data"]["login"]["token"]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_revoking_an_api_key_closes_its_sockets_and_no_other(
    live_server, demo, api_key, protocol
):
    admin = await api_key("demo", "admin")
    doomed, kept = await api_key("demo", "viewer"), await api_key("demo", "viewer")
    url = f"{live_server.ws}/graphql"
    async with graphql_ws(url, protocol, doomed) as revoked, graphql_ws(url, token=kept) as other:
        await revoked.subscribe(CONNECTIONS)
        await other.subscribe(CONNECTIONS)
        answer = await graphql(live_server, REVOKE_KEY, {"id": await key_id(doomed)}, admin)
        assert answer["data"]["revokeApiKey"]["__typename"] == "ApiKeyRevoked"
        assert await closed_code(revoked.connection) == REVOKED_CLOSE_CODE
        assert await still_open(other.connection)


async def test_an_operation_checks_the_credential_even_when_no_news_of_its_revocation_came(
    live_server, demo, api_key
):
    key = await api_key("demo", "admin")
    async with graphql_ws(f"{live_server.ws}/graphql", token=key) as client:
        # Revoked behind the server's back (another installation's tool, a hand edit): no event.
        await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(ApiKey.id > 0)
        await client.connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": 'mutation { createApiKey(name: "again", role: ADMIN) '
                        "{ __typename ... on ApiKeyCreated { key } } }"
                    },
                }
            )
        )
        answers = []

        async def read_until_closed() -> None:
            while True:
                answers.append(json.loads(await client.connection.recv()))

        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(read_until_closed(), 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == REVOKED_CLOSE_CODE
    results = [a["payload"]["data"] for a in answers if a["type"] == "next"]
    assert all(
        result["createApiKey"]["__typename"] == "NotAuthenticatedError" for result in results
    )
    assert await ApiKey.count().where(ApiKey.name == "again") == 0


@pytest.mark.parametrize("change", ["logout", "deactivated", "demoted", "new password"])
async def test_a_users_sockets_close_when_they_log_out_or_are_changed(
    live_server, demo, api_key, change
):
    token = await login(live_server, "operator@demo.example")
    admin = await api_key("demo", "admin")
    user = await User.select(User.id).where(User.email == "operator@demo.example").first()
    user_id = str(relay.GlobalID("User", str(user["id"])))
    async with graphql_ws(f"{live_server.ws}/graphql", token=token) as client:
        await client.subscribe(CONNECTIONS)
        if change == "logout":
            answer = await graphql(live_server, "mutation { logout { __typename } }", token=token)
            assert answer["data"]["logout"]["__typename"] == "LogoutSuccess"
        else:
            changes = {
                "deactivated": {"active": False},
                "demoted": {"role": "VIEWER"},
                "new password": {"password": "another-password-1"},
            }[change]
            answer = await graphql(
                live_server, UPDATE_USER, {"id": user_id, "input": changes}, admin
            )
            assert answer["data"]["updateUser"]["__typename"] != "NotFoundError", answer
        assert await closed_code(client.connection) == REVOKED_CLOSE_CODE


async def test_a_login_tokens_socket_closes_when_the_token_expires(live_server, demo):
    token = await login(live_server, "viewer@demo.example")
    await LoginToken.update({LoginToken.expires_at: utcnow() + timedelta(seconds=1.5)}).where(
        LoginToken.id > 0
    )
    async with graphql_ws(f"{live_server.ws}/graphql", token=token) as client:
        await client.subscribe(CONNECTIONS)
        assert await closed_code(client.connection, within_s=3.5) == REVOKED_CLOSE_CODE
