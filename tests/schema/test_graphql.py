import asyncio
import re
from pathlib import Path

import httpx
import pytest
from graphql import (
    DocumentNode,
    GraphQLList,
    GraphQLObjectType,
    build_schema,
    get_named_type,
    get_nullable_type,
    parse,
    print_ast,
    validate,
)
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.demo import STATIONS, load_demo
from schema.schema import SCHEMA_FILE, schema_sdl
from tests.conftest import graphql
from tests.graphql_ws import LEGACY_WS, TRANSPORT_WS, graphql_ws

STATIONS_QUERY = """
query {
  sites { totalCount edges { node { name timeZone stations { totalCount edges { node {
    identity connectors { evseId connectorId status } } } } } } }
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


ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOCUMENTED_FILES, ids=lambda path: path.name)
def test_documented_operations_are_valid_against_the_schema(path):
    """Every ```graphql block a user copies from the README or docs runs against this schema."""
    schema = build_schema(SCHEMA_FILE.read_text())
    for block in re.findall(r"```graphql\n(.*?)```", path.read_text(), re.S):
        for operation in parse(block).definitions:
            document = DocumentNode(definitions=(operation,))
            errors = validate(schema, document)
            assert not errors, f"{path}: {print_ast(operation)[:200]}: {errors[0].message}"


# Lists small and bounded by their parent, fetched whole: a station's EVSEs, a session's CDRs,
# a report's days. Every other list of objects is a connection that pages.
BOUNDED_LISTS = {
    "ChargingStation.evses",
    "ChargingStation.connectors",
    "ChargingStation.maintenanceWindows",
    "ChargingStation.chargingProfiles",
    "ChargingStation.compositeSchedules",  # one per EVSE at most
    "Evse.connectors",
    "UptimeReport.days",
    "ChargingSession.cdrs",
    "ChargingSession.meterValues",
    "PricePreview.prices",
    "Dashboard.revenue",
    "RoamingSettlement.lines",  # one per currency
    "Dashboard.openAlerts",
    "StationFigures.byStatus",
    "StationFigures.connectorsByStatus",
    "StationsImported.lines",
    "Partner.endpoints",  # one per OCPI module, at most 64 kept
    "OpeningHours.regularHours",  # at most 50 of each kind of period
    "OpeningHours.exceptionalOpenings",
    "OpeningHours.exceptionalClosings",
    "EnergyMix.energySources",  # one per source at most
    "Site.demandResponseEvents",  # those not over yet, at most 100 per site
}


def test_every_unbounded_list_is_a_connection_with_a_total():
    sdl = build_schema(schema_sdl())
    unpaged = []
    for type_name, graphql_type in sdl.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        if type_name.endswith("Connection"):
            assert "totalCount" in graphql_type.fields, type_name
            assert {"edges", "pageInfo"} <= graphql_type.fields.keys(), type_name
            continue
        for field_name, field in graphql_type.fields.items():
            item = get_named_type(field.type)
            if not isinstance(get_nullable_type(field.type), GraphQLList):
                continue
            if isinstance(item, GraphQLObjectType) and not type_name.endswith("Edge"):
                unpaged.append(f"{type_name}.{field_name}")
    assert sorted(set(unpaged) - BOUNDED_LISTS) == []
    assert sorted(BOUNDED_LISTS - set(unpaged)) == [], "allowlist names a field that is gone"


# Free text the station itself chose, passed through beside the normalised enum.
STATION_WORDS = {
    "rawStatus",
    "stationStatus",
    "chargingState",
    "stopReason",
    "firmwareStatus",
    "diagnosticsStatus",
    "purpose",
}
CLOSED_SET = re.compile(r"(status|state|kind|severity|role|roles|type|direction|action)$", re.I)


def test_closed_sets_are_enums_not_strings():
    sdl = build_schema(schema_sdl())
    strings = []
    for type_name, graphql_type in sdl.type_map.items():
        if type_name.startswith("__") or not hasattr(graphql_type, "fields"):
            continue
        for field_name, field in graphql_type.fields.items():
            places = [(field_name, field.type)]
            places += [(name, arg.type) for name, arg in getattr(field, "args", {}).items()]
            for name, kind in places:
                free_text = name in STATION_WORDS or type_name == "OcppFrame"
                if get_named_type(kind).name == "String" and CLOSED_SET.search(name):
                    strings += [] if free_text else [f"{type_name}.{field_name}:{name}"]
    assert strings == []


async def test_query_sites_stations_and_connectors(live_server, demo_key):
    result = await graphql(live_server, STATIONS_QUERY, token=demo_key)
    assert "errors" not in result
    data = result["data"]
    sites = [edge["node"] for edge in data["sites"]["edges"]]
    assert data["sites"]["totalCount"] == len(sites)
    assert sites[0]["name"] == "Berlin Mitte Garage"
    assert sites[0]["timeZone"] == "Europe/Berlin"
    berlin = [edge["node"]["identity"] for edge in sites[0]["stations"]["edges"]]
    assert berlin == ["DEMO-BER-AC-01", "DEMO-BER-AC-02"]
    assert sites[0]["stations"]["totalCount"] == 2
    connectors = sites[0]["stations"]["edges"][0]["node"]["connectors"]
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
            except TimeoutError:
                continue
            if first["stationConnections"]["connected"]:
                break
            # The subscription went live between an attempt's connect and its goodbye.
            await asyncio.sleep(0.2)
            while True:  # drop what is left of that attempt
                try:
                    await asyncio.wait_for(client.next_data(), 0.2)
                except TimeoutError:
                    break
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
