"""What one anonymous request may cost: a body, a websocket message and a GraphQL document each
have a cap, enforced before the whole of it is read or parsed."""

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.graphql_ws import TRANSPORT_WS

MAX_BYTES = 1_048_576  # the default CPMS_MAX_REQUEST_BYTES
TOO_LARGE = 2 * MAX_BYTES


async def test_a_body_announced_too_large_is_refused_before_it_is_sent(live_server):
    reader, writer = await asyncio.open_connection("127.0.0.1", live_server.port)
    try:
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: cpms\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {TOO_LARGE}\r\n\r\n".encode()
        )
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)  # not one byte of the body sent
    finally:
        writer.close()
    assert status.split()[1] == b"413"


async def test_a_body_of_unknown_length_is_refused_once_past_the_cap(live_server):
    reader, writer = await asyncio.open_connection("127.0.0.1", live_server.port)
    sent = 0

    async def send_chunks() -> None:
        nonlocal sent
        chunk = b'{"query": "' + b"#" * (64 * 1024)
        while sent < 4 * TOO_LARGE:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            sent += len(chunk)
        await asyncio.sleep(10)  # the rest never comes: the answer must not wait for it

    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: cpms\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sending = asyncio.create_task(send_chunks())
    try:
        status = await asyncio.wait_for(reader.readline(), 5)
    except ConnectionResetError:
        # The server answered and closed with our chunks still unread: its kernel resets the
        # connection, which may discard the answer before we read it.
        status = b"HTTP/1.1 413 (reset)"
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()
    assert status.split()[1] == b"413"
    assert sent < 4 * TOO_LARGE  # refused once past the cap, not read to the end


async def test_a_document_longer_than_the_cap_is_refused_unparsed(live_server):
    # Comments cost no tokens, so the token limit alone let this through.
    document = "#" + "x" * 40_000 + "\n{ __typename }"
    async with httpx.AsyncClient(base_url=live_server.http, timeout=10) as client:
        reply = await client.post("/graphql", json={"query": document})
        short = await client.post("/graphql", json={"query": "# fine\n{ __typename }"})
    [error] = reply.json()["errors"]
    assert "CPMS_MAX_DOCUMENT_CHARS" in error["message"]
    assert error["extensions"]["code"] == "invalid_input"
    assert short.json() == {"data": {"__typename": "Query"}}


async def closed_code(connection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(connection.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_station_frame_larger_than_the_cap_closes_the_connection_unread(
    live_server, register
):
    await register("CP-BIG")
    async with connect(
        f"{live_server.ws}/ocpp/CP-BIG", subprotocols=[Subprotocol("ocpp1.6")], max_size=None
    ) as station:
        frame = json.dumps([2, "1", "DataTransfer", {"vendorId": "X", "data": "y" * TOO_LARGE}])
        await station.send(frame)
        assert await closed_code(station) == 1009  # message too big


async def test_a_graphql_websocket_message_larger_than_the_cap_closes_the_connection(
    live_server,
):
    async with connect(
        f"{live_server.ws}/graphql", subprotocols=[Subprotocol(TRANSPORT_WS)], max_size=None
    ) as client:
        await client.send(
            json.dumps({"type": "connection_init", "payload": {"x": "y" * TOO_LARGE}})
        )
        assert await closed_code(client) == 1009


async def test_a_database_outage_is_a_503_with_a_retry_hint_not_an_unexpected_error(
    live_server, organization, api_key, register, monkeypatch
):
    from app.stations import registration
    from app.stations import service as stations
    from tests.conftest import graphql

    key = await api_key(role="viewer")
    await register("CP-OUTAGE")

    async def database_away(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(stations, "page_stations", database_away)
    monkeypatch.setattr(registration, "admit_connection", database_away)
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        reply = await client.post(
            "/graphql",
            json={"query": "{ stations { totalCount } }"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "5"
    [error] = reply.json()["errors"]
    assert error["extensions"] == {"code": "unavailable", "retryAfterS": 5}
    assert "5432" not in error["message"]

    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{live_server.ws}/ocpp/CP-OUTAGE", subprotocols=[Subprotocol("ocpp1.6")]
        ):
            pass
    assert refused.value.response.status_code == 503
    assert refused.value.response.headers["Retry-After"] == "30"
    assert await graphql(live_server, "{ __typename }", token=key) == {
        "data": {"__typename": "Query"}
    }
