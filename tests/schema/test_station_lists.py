"""Station lists for dashboards: cursor pages, filters, order, and lookups by global id."""

import pytest
from strawberry import relay

from app.demo import STATIONS, load_demo
from db.tables import ChargingStation, Connector, Organization, Site
from tests.conftest import graphql

PAGE = """
query ($first: Int!, $after: String, $filter: StationFilterInput, $order: StationOrder!) {
  stations(first: $first, after: $after, filter: $filter, orderBy: $order) {
    edges { cursor node { id identity } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
"""


@pytest.fixture
async def viewer(clean_db, unit_of_work, api_key) -> str:
    await load_demo(unit_of_work())
    return await api_key("demo", "viewer")


async def identities(server, token, first=50, after=None, filter=None, order="IDENTITY"):
    variables = {"first": first, "after": after, "filter": filter, "order": order}
    result = await graphql(server, PAGE, variables, token)
    assert "errors" not in result, result
    page = result["data"]["stations"]
    info = {**page["pageInfo"], "totalCount": page["totalCount"]}
    return [edge["node"]["identity"] for edge in page["edges"]], info


async def test_pages_follow_each_other_without_gaps_or_repeats(live_server, viewer):
    seen, after = [], None
    while True:
        names, info = await identities(live_server, viewer, first=2, after=after)
        seen += names
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == sorted(row[1] for row in STATIONS)


async def test_newest_first(live_server, viewer):
    names, _ = await identities(live_server, viewer, order="NEWEST")
    assert names == [row[1] for row in reversed(STATIONS)]
    first_two, info = await identities(live_server, viewer, first=2, order="OLDEST")
    rest, _ = await identities(live_server, viewer, after=info["endCursor"], order="OLDEST")
    assert first_two + rest == [row[1] for row in STATIONS]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"vendor": "Alpitronic"}, ["DEMO-HAM-DC-01", "DEMO-HAM-DC-02"]),
        ({"search": "ber-ac"}, ["DEMO-BER-AC-01", "DEMO-BER-AC-02"]),
        ({"search": "visitors"}, ["DEMO-AMS-AC-01"]),  # the name matches
        ({"online": True}, ["DEMO-AMS-AC-01"]),
        ({"online": False, "vendor": "Alfen"}, []),
        # The API status: a connected station's own, OFFLINE for the others whatever they said.
        ({"status": "FAULTED"}, ["DEMO-AMS-AC-01"]),
        ({"status": "OFFLINE", "search": "ber-ac"}, ["DEMO-BER-AC-01", "DEMO-BER-AC-02"]),
        ({"status": "AVAILABLE"}, []),
    ],
)
async def test_filters(live_server, viewer, filter, expected):
    await ChargingStation.update({ChargingStation.connected: True}).where(
        ChargingStation.identity == "DEMO-AMS-AC-01"
    )
    await ChargingStation.update({ChargingStation.status: "Faulted"}).where(
        ChargingStation.identity.is_in(["DEMO-AMS-AC-01", "DEMO-BER-AC-02"])
    )
    names, info = await identities(live_server, viewer, filter=filter)
    assert names == expected
    assert info["totalCount"] == len(expected)


async def test_filter_by_site_takes_its_global_id(live_server, viewer):
    site = await Site.select(Site.id).where(Site.name == "Hamburg Hafen Fast Hub").first()
    assert site is not None
    site_id = str(relay.GlobalID("Site", str(site["id"])))
    names, info = await identities(live_server, viewer, filter={"siteId": site_id})
    assert names == ["DEMO-HAM-DC-01", "DEMO-HAM-DC-02"]
    assert info["totalCount"] == 2
    offline_there = {"siteId": site_id, "status": "OFFLINE"}
    names, info = await identities(live_server, viewer, first=1, filter=offline_there)
    assert (names, info["totalCount"]) == (["DEMO-HAM-DC-01"], 2)
    await ChargingStation.update({ChargingStation.connected: True}).where(
        ChargingStation.identity == "DEMO-HAM-DC-02"
    )
    names, info = await identities(live_server, viewer, filter=offline_there)
    assert (names, info["totalCount"]) == (["DEMO-HAM-DC-01"], 1)
    wrong = await graphql(
        live_server,
        PAGE,
        {
            "first": 5,
            "filter": {"siteId": str(relay.GlobalID("ChargingStation", "1"))},
            "order": "IDENTITY",
        },
        viewer,
    )
    assert wrong["errors"][0]["extensions"]["code"] == "invalid_input"


async def test_a_forged_cursor_is_invalid_input(live_server, viewer):
    result = await graphql(
        live_server, PAGE, {"first": 2, "after": "not-a-cursor", "order": "IDENTITY"}, viewer
    )
    assert result["errors"][0]["extensions"]["code"] == "invalid_input"


async def test_any_node_by_global_id_but_only_our_own(live_server, viewer, api_key):
    station = (
        await ChargingStation.select().where(ChargingStation.identity == "DEMO-HAM-DC-01").first()
    )
    connector = (
        await Connector.select(Connector.id).where(Connector.station == station["id"]).first()
    )
    query = """
    query ($station: ID!, $site: ID!, $connector: ID!) {
      station: node(id: $station) { ... on ChargingStation { identity } }
      site: node(id: $site) { ... on Site { name } }
      connector: node(id: $connector) { ... on Connector { evseId status rawStatus } }
    }
    """
    variables = {
        "station": str(relay.GlobalID("ChargingStation", str(station["id"]))),
        "site": str(relay.GlobalID("Site", str(station["site"]))),
        "connector": str(relay.GlobalID("Connector", str(connector["id"]))),
    }
    ours = (await graphql(live_server, query, variables, viewer))["data"]
    assert ours == {
        "station": {"identity": "DEMO-HAM-DC-01"},
        "site": {"name": "Hamburg Hafen Fast Hub"},
        "connector": {"evseId": 1, "status": "OFFLINE", "rawStatus": "Unknown"},
    }
    await Organization.insert(Organization(name="Other", slug="other"))
    theirs = await graphql(live_server, query, variables, await api_key("other", "admin"))
    assert theirs["data"] == {"station": None, "site": None, "connector": None}


BACKWARDS = """
query ($last: Int, $before: String, $filter: StationFilterInput, $order: StationOrder!) {
  stations(last: $last, before: $before, filter: $filter, orderBy: $order) {
    totalCount
    edges { node { identity } }
    pageInfo { hasPreviousPage hasNextPage startCursor }
  }
}
"""


@pytest.mark.parametrize("order", ["IDENTITY", "NEWEST", "OLDEST"])
async def test_pages_read_backwards_from_the_end(live_server, viewer, order):
    forwards, _ = await identities(live_server, viewer, order=order)
    seen, before = [], None
    while True:
        variables = {"last": 2, "before": before, "order": order}
        result = await graphql(live_server, BACKWARDS, variables, viewer)
        assert "errors" not in result, result
        page = result["data"]["stations"]
        seen = [edge["node"]["identity"] for edge in page["edges"]] + seen
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == forwards
    assert page["totalCount"] == len(STATIONS)


async def test_the_total_count_applies_the_filters_not_the_page(live_server, viewer):
    variables = {"last": 1, "filter": {"vendor": "Alpitronic"}, "order": "IDENTITY"}
    result = await graphql(live_server, BACKWARDS, variables, viewer)
    page = result["data"]["stations"]
    assert [edge["node"]["identity"] for edge in page["edges"]] == ["DEMO-HAM-DC-02"]
    assert page["totalCount"] == 2
    assert page["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    "arguments",
    ["first: 2, last: 2", "first: -1", "last: -3", 'before: "bm90LWEtY3Vyc29y"'],
)
async def test_contradictory_or_bad_page_arguments_are_invalid_input(
    live_server, viewer, arguments
):
    result = await graphql(
        live_server, f"{{ stations({arguments}) {{ edges {{ cursor }} }} }}", token=viewer
    )
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "invalid_input"


async def test_a_cursor_of_another_order_is_invalid_input(live_server, viewer):
    _, info = await identities(live_server, viewer, first=1, order="IDENTITY")
    result = await graphql(
        live_server, PAGE, {"first": 2, "after": info["endCursor"], "order": "NEWEST"}, viewer
    )
    assert result["errors"][0]["extensions"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    "node_id", ["abc", "99999999999999999999", "2147483648", "0", "-1", "1e3", "١٢"]
)
async def test_a_malformed_global_id_is_invalid_input_not_an_unexpected_error(
    live_server, viewer, node_id
):
    malformed = str(relay.GlobalID("Site", node_id))
    node = await graphql(
        live_server, "query ($id: ID!) { node(id: $id) { id } }", {"id": malformed}, viewer
    )
    assert node["errors"][0]["extensions"]["code"] == "invalid_input", node
    listed = await graphql(
        live_server,
        PAGE,
        {"first": 1, "filter": {"siteId": malformed}, "order": "IDENTITY"},
        viewer,
    )
    assert listed["errors"][0]["extensions"]["code"] == "invalid_input", listed
