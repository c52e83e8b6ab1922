"""Tariffs through the API: checked on the way in, assigned to places, previewed up front."""

import pytest
from strawberry import relay

from db.tables import Connector, Evse, Organization, Partner, Tariff
from tests.conftest import graphql

SAVE = """
mutation ($input: TariffInput!) { createTariff(input: $input) {
  __typename ... on TariffSaved { tariff { id code currency elements minPriceMinor } }
  ... on UserError { code message } } }
"""
ASSIGN = """
mutation ($tariff: ID!, $scope: TariffScopeInput) { assignTariff(tariffId: $tariff, scope: $scope) {
  __typename ... on TariffAssigned { assignment { id stationId tokenGroupId } }
  ... on UserError { code message } } }
"""
PREVIEW = """
query ($connector: ID!, $group: String) {
  pricePreview(connectorId: $connector, tokenGroupId: $group) {
    tariff { code } currency notes
    prices { dimension priceExclVat priceInclVat vatPercent stepSize conditions description }
  }
}
"""


def energy(price: str) -> list[dict]:
    return [{"priceComponents": [{"type": "ENERGY", "price": price, "vat": 19, "stepSize": 1}]}]


async def test_tariff_elements_are_camel_case_in_and_out_and_snake_case_stored(
    live_server, organization, api_key
):
    elements = [
        {
            "priceComponents": [{"type": "TIME", "price": "2.00", "vat": "19", "stepSize": 60}],
            "restrictions": {"startTime": "08:00", "endTime": "20:00", "dayOfWeek": ["MONDAY"]},
        }
    ]
    base = {"code": "DAY", "name": "Day", "currency": "EUR", "elements": elements}
    result = await graphql(live_server, SAVE, {"input": base}, await api_key())
    assert result["data"]["createTariff"]["tariff"]["elements"] == elements
    stored = await Tariff.select(Tariff.elements).first()
    assert stored is not None and "price_components" in str(stored["elements"])


async def create(server, token: str, code: str, price: str, **extra) -> str:
    result = await graphql(
        server,
        SAVE,
        {
            "input": {
                "code": code,
                "name": code,
                "currency": "EUR",
                "elements": energy(price),
                **extra,
            }
        },
        token,
    )
    saved = result["data"]["createTariff"]
    assert saved["__typename"] == "TariffSaved", saved
    return saved["tariff"]["id"]


async def connectors_of(station_id: int, count: int) -> list[str]:
    ids = []
    for number in range(1, count + 1):
        evse = Evse(station=station_id, evse_id=number)
        await evse.save()
        connector = Connector(station=station_id, evse=evse.id, connector_id=1)
        await connector.save()
        ids.append(str(relay.GlobalID("Connector", str(connector.id))))
    return ids


@pytest.mark.parametrize(
    ("input", "code"),
    [
        ({"elements": []}, "invalid_input"),
        ({"elements": [{"price_components": [{"type": "ENERGY", "price": -1}]}]}, "invalid_input"),
        ({"elements": [{"price_components": [{"type": "BEER", "price": 1}]}]}, "invalid_input"),
        ({"currency": "EURO"}, "invalid_input"),
        ({"type": "CHEAP"}, None),  # not a TariffType: refused before it runs
        ({"minPriceMinor": 500, "maxPriceMinor": 100}, "invalid_input"),
        ({"code": "TAKEN"}, "already_exists"),
    ],
)
async def test_a_bad_tariff_is_a_typed_error_and_nothing_is_written(
    live_server, organization, api_key, input, code
):
    admin = await api_key()
    await create(live_server, admin, "TAKEN", "0.30")
    base = {"code": "NEW", "name": "New", "currency": "EUR", "elements": energy("0.30")}
    result = await graphql(live_server, SAVE, {"input": {**base, **input}}, admin)
    if code is None:
        assert result["data"] is None and "TariffType" in result["errors"][0]["message"]
    else:
        assert result["data"]["createTariff"]["code"] == code
    assert await Tariff.count() == 1


async def test_the_most_specific_tariff_applies_and_is_shown_in_words(
    live_server, organization, api_key, register
):
    admin = await api_key()
    first = (await register("CP-T1")).id
    second = (await register("CP-T2")).id
    c1, c2 = await connectors_of(first, 2)
    [other] = await connectors_of(second, 1)
    default = await create(live_server, admin, "DEFAULT", "0.30", minPriceMinor=50)
    station = await create(live_server, admin, "STATION", "0.40")
    connector = await create(live_server, admin, "CONNECTOR", "0.50")
    fleet = await create(live_server, admin, "FLEET", "0.20")
    station_id = str(relay.GlobalID("ChargingStation", str(first)))
    for tariff, scope in (
        (default, None),
        (station, {"stationId": station_id}),
        (connector, {"connectorId": c1}),
        (fleet, {"tokenGroupId": "FLEET-A"}),
    ):
        assigned = await graphql(live_server, ASSIGN, {"tariff": tariff, "scope": scope}, admin)
        assert assigned["data"]["assignTariff"]["__typename"] == "TariffAssigned"

    driver = await api_key(role="driver")

    async def shown(connector_id: str, group: str | None = None) -> dict:
        result = await graphql(
            live_server, PREVIEW, {"connector": connector_id, "group": group}, driver
        )
        return result["data"]["pricePreview"]

    assert (await shown(c1))["tariff"]["code"] == "CONNECTOR"
    assert (await shown(c2))["tariff"]["code"] == "STATION"
    assert (await shown(other))["tariff"]["code"] == "DEFAULT"
    assert (await shown(c1, "FLEET-A"))["tariff"]["code"] == "FLEET"
    preview = await shown(other)
    assert preview["currency"] == "EUR"
    [price] = preview["prices"]
    assert price["dimension"] == "ENERGY"
    assert (price["priceExclVat"], price["priceInclVat"]) == ("0.30", "0.3570")
    assert price["description"] == "0.357 EUR per kWh incl. 19% VAT"
    assert preview["notes"]  # the minimum price per session

    assignments = """
    query ($id: ID!, $after: String) { node(id: $id) { ... on Tariff {
      assignments(first: 1, after: $after) {
        edges { node { stationId connectorId tokenGroupId } }
        pageInfo { hasNextPage endCursor } totalCount } } } }
    """
    shown_where = []
    after = None
    for tariff in (default, station, connector, fleet):
        page = (await graphql(live_server, assignments, {"id": tariff}, driver))["data"]
        [edge] = page["node"]["assignments"]["edges"]
        shown_where.append(edge["node"])
        assert page["node"]["assignments"]["totalCount"] == 1
    assert [where["tokenGroupId"] for where in shown_where] == [None, None, None, "FLEET-A"]
    assert shown_where[1]["stationId"] == station_id
    another = await graphql(
        live_server, ASSIGN, {"tariff": default, "scope": {"connectorId": c2}}, admin
    )
    assert another["data"]["assignTariff"]["__typename"] == "TariffAssigned"
    seen = []
    while True:
        page = await graphql(live_server, assignments, {"id": default, "after": after}, driver)
        listed = page["data"]["node"]["assignments"]
        assert listed["totalCount"] == 2
        seen += [edge["node"]["connectorId"] for edge in listed["edges"]]
        if not listed["pageInfo"]["hasNextPage"]:
            break
        after = listed["pageInfo"]["endCursor"]
    assert seen == [None, c2]  # oldest first

    two_places = await graphql(
        live_server,
        ASSIGN,
        {"tariff": default, "scope": {"stationId": station_id, "connectorId": c1}},
        admin,
    )
    assert two_places["data"]["assignTariff"]["code"] == "invalid_input"
    not_admin = await graphql(
        live_server,
        SAVE,
        {"input": {"code": "X", "name": "X", "currency": "EUR", "elements": energy("1")}},
        driver,
    )
    assert not_admin["data"]["createTariff"]["__typename"] == "NotPermittedError"


async def test_a_connector_without_a_tariff_has_no_preview(
    live_server, organization, api_key, register
):
    [connector] = await connectors_of((await register("CP-FREE")).id, 1)
    result = await graphql(live_server, PREVIEW, {"connector": connector}, await api_key())
    assert result == {"data": {"pricePreview": None}}


async def test_a_tariff_is_a_partners_own_only_for_a_partner_of_the_organization(
    live_server, organization, api_key
):
    admin = await api_key()
    tariff = await create(live_server, admin, "ROAMING", "0.45")
    ours = Partner(organization=organization, name="Our eMSP", country_code="DE", party_id="OUR")
    await ours.save()
    other_organization = Organization(name="Other", slug="other-tariffs")
    await other_organization.save()
    theirs = Partner(
        organization=other_organization.id, name="Their eMSP", country_code="DE", party_id="THR"
    )
    await theirs.save()
    for partner, outcome in ((theirs, "NotFoundError"), (ours, "TariffAssigned")):
        scope = {"partnerId": str(relay.GlobalID("Partner", str(partner.id)))}
        assigned = await graphql(live_server, ASSIGN, {"tariff": tariff, "scope": scope}, admin)
        assert assigned["data"]["assignTariff"]["__typename"] == outcome
