import asyncio
import re

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.demo import STATIONS, load_demo
from schema.schema import SCHEMA_FILE, schema_sdl
from tests.conftest import graphql
from tests.graphql_ws import LEGACY_WS, TRANSPORT_WS, graphql_ws

STATIONS_QUERY = """
query {
  sites { name timeZone stations { identity connectors { evseId connectorId status } } }
  stations(first: 100) { edges { node { identity site { name } } } }
}
"""


@pytest.fixture
async def demo_key(clean_db, unit_of_work, api_key) -> str:
    """The demo operator's data and a viewer's API key for it."""
    await load_demo(unit_of_work())
    return await api_key("demo", "viewer")


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema/schema.graphql is stale: run `python -m schema.export`"
    )


async def test_query_sites_stations_and_connectors(live_server, demo_key):
    result = await graphql(live_server, STATIONS_QUERY, token=demo_key)
    assert "errors" not in result
    data = result["data"]
    assert data["sites"][0]["name"] == "Berlin Mitte Garage"
    assert data["sites"][0]["timeZone"] == "Europe/Berlin"
    berlin = [station["identity"] for station in data["sites"][0]["stations"]]
    assert berlin == ["DEMO-BER-AC-01", "DEMO-BER-AC-02"]
    connectors = data["sites"][0]["stations"][0]["connectors"]
    assert [(c["evseId"], c["connectorId"]) for c in connectors] == [(1, 1), (2, 1)]
    assert len(data["stations"]["edges"]) == len(STATIONS)
    assert all(edge["node"]["site"]["name"] for edge in data["stations"]["edges"])


async def test_page_size_is_capped(live_server, clean_db, api_key):
    from app.pagination import MAX_PAGE_SIZE
    from db.tables import ChargingStation, Organization

    organization = Organization(name="Big", slug="big")
    await organization.save()
    key = await api_key("big", "viewer")
    await ChargingStation.insert(
        *[
            ChargingStation(organization=organization.id, identity=f"CP-{n:04d}")
            for n in range(MAX_PAGE_SIZE + 5)
        ]
    )
    query = "{ stations(first: 100000) { edges { node { identity } } pageInfo { hasNextPage } } }"
    result = await graphql(live_server, query, token=key)
    assert len(result["data"]["stations"]["edges"]) == MAX_PAGE_SIZE
    assert result["data"]["stations"]["pageInfo"]["hasNextPage"] is True


async def test_unknown_station_is_null(live_server, demo_key):
    result = await graphql(
        live_server, '{ station(identity: "NOPE") { identity } }', token=demo_key
    )
    assert result == {"data": {"station": None}}


async def test_invalid_query_is_a_graphql_error_not_a_crash(live_server, demo_key):
    result = await graphql(
        live_server, '{ station(identity: "X") { noSuchField } }', token=demo_key
    )
    assert result["data"] is None
    assert "noSuchField" in result["errors"][0]["message"]


async def test_graphiql_is_served_to_browsers_with_no_external_address(live_server):
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == 200
        page = response.text
        assert "graphiql" in page.lower()
        addresses = re.findall(r'(?:src|href)="([^"]+)"', page)
        loaded = [address for address in addresses if not address.startswith("data:")]
        assert len(loaded) == 7  # every script and style sheet the page needs
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page), "external address"
        for address in loaded:
            asset = await client.get(address)
            assert asset.status_code == 200, address
            assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
            assert len(asset.content) > 500
        missing = await client.get("/graphql/assets/..%2Fschema.py")
        assert missing.status_code == 404


async def test_the_schema_is_served_as_sdl(live_server):
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        response = await client.get("/graphql/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql")
    assert response.text == SCHEMA_FILE.read_text()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscription_sees_a_real_charger_connect_and_leave(
    live_server, register, api_key, protocol
):
    subscription = """
    subscription ($identity: String) {
      stationConnections(identity: $identity) { identity connected protocol nodeId }
    }
    """
    identity = f"CP-SUB-{protocol}"
    await register(identity)
    token = await api_key()
    async with graphql_ws(f"{live_server.ws}/graphql", protocol, token) as client:
        await client.subscribe(subscription, {"identity": identity})
        # No acknowledgement per subscription: connect until the event shows up.
        for _attempt in range(50):
            async with connect(
                f"{live_server.ws}/ocpp/{identity}",
                subprotocols=[Subprotocol("ocpp1.6")],
            ):
                pass
            try:
                first = await asyncio.wait_for(client.next_data(), 0.2)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no subscription event")
        assert first["stationConnections"] == {
            "identity": identity,
            "connected": True,
            "protocol": "ocpp1.6",
            "nodeId": "node-1",
        }
        second = await asyncio.wait_for(client.next_data(), 5)
        assert second["stationConnections"]["connected"] is False
