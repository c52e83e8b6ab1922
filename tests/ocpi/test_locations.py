"""The locations module as a sender: a registered eMSP pulls our sites as OCPI Locations,
page by page, and single objects; every object is checked against the OCPI definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from ocpp.v16 import call as call16

from db.tables import ChargingStation, Connector, Partner, Site, Tariff, TariffAssignment
from db.tables import Evse as EvseRow
from ocpi.v221.models import Connector as OcpiConnector
from ocpi.v221.models import Envelope, Evse, Location
from schema.ids import global_id
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.emsp import data_of, token_header
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_offline import eventually


async def add_site(organization: int, name: str, **fields) -> int:
    values = {
        "organization": organization,
        "name": name,
        "address": "Hauptstraße 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DEU",
        "latitude": Decimal("52.520008"),
        "longitude": Decimal("13.404954"),
        "time_zone": "Europe/Berlin",
        "created_at": datetime.now(UTC) - timedelta(days=1),
        **fields,
    }
    rows = await Site.insert(Site(**values)).returning(Site.id)
    return int(rows[0]["id"])


async def place(identity: str, site_id: int) -> None:
    await ChargingStation.update({ChargingStation.site: site_id}).where(
        ChargingStation.identity == identity
    )


async def available(station) -> int:
    """A 1.6 station booted, its connector 1 Available; its EVSE's uid (row id)."""
    await booted(station, "ocpp1.6")
    await station.call(
        call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
    )

    async def evse_uid() -> int | None:
        row = await (
            EvseRow.select(EvseRow.id)
            .where((EvseRow.evse_id == 1) & (EvseRow.station.identity == station.id))
            .first()
        )
        return row["id"] if row else None

    return await eventually(evse_uid)


async def pull(client: httpx.AsyncClient, url: str, token: str, **params) -> httpx.Response:
    return await client.get(url, params=params, headers=token_header(token))


async def test_an_emsp_pulls_every_location_page_by_page(
    live_server, cpo, connected, register, connect_charger
):
    organization_id = cpo
    sites = [await add_site(organization_id, f"Site {n}") for n in range(3)]
    await add_site(organization_id, "No stations")  # not a location: nothing charges there
    incomplete = await add_site(organization_id, "No coordinates", latitude=None)
    for number, site_id in enumerate([*sites, incomplete]):
        await register(f"CP-LOC-{number}")
        await place(f"CP-LOC-{number}", site_id)
    tariff = await Tariff.insert(
        Tariff(
            organization=organization_id,
            code="AC-STANDARD",
            name="AC",
            currency="EUR",
            elements=[{"price_components": [{"type": "ENERGY", "price": "0.39", "step_size": 1}]}],
        )
    ).returning(Tariff.id)
    await TariffAssignment.insert(
        TariffAssignment(organization=organization_id, tariff=tariff[0]["id"])
    )

    async with connect_charger("CP-LOC-0") as station:
        await booted(station, "ocpp1.6")
        for connector_id, status in ((1, "Available"), (2, "Charging")):
            await station.call(
                call16.StatusNotification(
                    connector_id=connector_id, error_code="NoError", status=status
                )
            )

        async def written() -> bool:
            return await Connector.count().where(Connector.status == "Charging") == 1

        assert await eventually(written)

        url = f"{connected.base}/locations"
        async with httpx.AsyncClient() as client:
            first = await pull(client, url, connected.token, limit=2)
            assert first.status_code == 200, first.text
            assert first.headers["X-Total-Count"] == "3"
            assert first.headers["X-Limit"] == "1000"
            assert first.headers["OCPI-from-party-id"] == "ACM"
            assert first.headers["OCPI-to-party-id"] == "TNM"
            link = first.headers["Link"]
            assert link.endswith('>; rel="next"') and "offset=2" in link
            second = await client.get(
                link[1 : link.index(">")], headers=token_header(connected.token)
            )
            assert "Link" not in second.headers
            pulled = [Location.model_validate(each) for each in data_of(first) + data_of(second)]
            row = await Partner.select(Partner.last_pull_at).first()
            assert row is not None and row["last_pull_at"] is not None  # the pull is noted

            assert [each.id for each in pulled] == [str(site_id) for site_id in sites]
            with_station = pulled[0]
            assert (with_station.country_code, with_station.party_id) == ("DE", "ACM")
            assert with_station.coordinates.latitude == "52.520008"
            assert with_station.opening_times is not None
            assert with_station.opening_times.twentyfourseven
            assert with_station.publish is True
            statuses = [evse.status.value for evse in with_station.evses]
            assert statuses == ["AVAILABLE", "CHARGING"]
            evse = with_station.evses[1]
            assert evse.evse_id == f"DE*ACM*E{evse.uid}"
            assert evse.connectors[0].tariff_ids == ["AC-STANDARD"]
            assert evse.connectors[0].standard.value == "IEC_62196_T2"
            # A station that never connected: its location is there, without EVSEs yet.
            assert pulled[1].evses == []

            # Single objects: the location, one EVSE, one connector.
            one = await pull(client, f"{url}/{sites[0]}", connected.token)
            assert Location.model_validate(data_of(one)).id == str(sites[0])
            one = await pull(client, f"{url}/{sites[0]}/{evse.uid}", connected.token)
            assert Evse.model_validate(data_of(one)).status.value == "CHARGING"
            one = await pull(client, f"{url}/{sites[0]}/{evse.uid}/1", connected.token)
            assert OcpiConnector.model_validate(data_of(one)).id == "1"

            # Only what changed since: the station's statuses moved the first site.
            since = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
            changed = await pull(client, url, connected.token, date_from=since)
            assert changed.headers["X-Total-Count"] == "1"
            assert [each["id"] for each in data_of(changed)] == [str(sites[0])]
            until = await pull(client, url, connected.token, date_to=since)
            assert until.headers["X-Total-Count"] == "2"

    # The station went away: its EVSEs' status is unknown.
    async def offline() -> bool:
        row = (
            await ChargingStation.select(ChargingStation.connected)
            .where(ChargingStation.identity == "CP-LOC-0")
            .first()
        )
        return row is not None and not row["connected"]

    assert await eventually(offline)
    async with httpx.AsyncClient() as client:
        gone = await pull(client, f"{connected.base}/locations/{sites[0]}", connected.token)
    assert {evse["status"] for evse in data_of(gone)["evses"]} == {"UNKNOWN"}


async def test_unknown_objects_and_bad_pages_are_refused(live_server, connected):
    url = f"{connected.base}/locations"
    async with httpx.AsyncClient() as client:
        for unknown in ("999999", "not-a-number", "9999999999", "999999/1", "999999/1/1"):
            answer = await pull(client, f"{url}/{unknown}", connected.token)
            assert answer.status_code == 404
            assert Envelope.model_validate(answer.json()).status_code == 2003
        for bad in ({"offset": "-1"}, {"limit": "0"}, {"limit": "x"}, {"date_from": "yesterday"}):
            answer = await pull(client, url, connected.token, **bad)
            assert answer.status_code == 400
            body = Envelope.model_validate(answer.json())
            assert body.status_code == 2001 and body.status_message
        empty = await pull(client, url, connected.token)
        assert (empty.status_code, data_of(empty), empty.headers["X-Total-Count"]) == (200, [], "0")
        # Token A, or no token: 401.
        answer = await client.get(url)
        assert answer.status_code == 401


UPDATE_SITE = """
mutation ($id: ID!, $input: SiteInput!) { updateSite(id: $id, input: $input) {
  __typename ... on SiteSaved { site { publish } } ... on UserError { code message } } }
"""


async def test_an_unpublished_site_is_sent_marked_and_its_change_is_dated(
    live_server, cpo, connected, register, api_key
):
    site_id = await add_site(cpo, "Depot")
    await register("CP-DEPOT")
    await place("CP-DEPOT", site_id)
    admin = await api_key(TEST_ORGANIZATION, "admin")
    before = datetime.now(UTC) - timedelta(seconds=1)
    changed = await graphql(
        live_server,
        UPDATE_SITE,
        {"id": str(global_id("Site", site_id)), "input": {"publish": False}},
        admin,
    )
    assert changed["data"]["updateSite"]["site"]["publish"] is False
    async with httpx.AsyncClient() as client:
        answer = await pull(client, f"{connected.base}/locations/{site_id}", connected.token)
    shown = Location.model_validate(data_of(answer))
    assert shown.publish is False
    assert datetime.fromisoformat(shown.last_updated.replace("Z", "+00:00")) >= before


SITE_DETAILS = """
mutation ($id: ID!, $input: SiteInput!) { updateSite(id: $id, input: $input) {
  __typename
  ... on SiteSaved { site { openingHours { twentyfourseven regularHours { weekday periodBegin
    periodEnd } exceptionalClosings { periodBegin periodEnd } }
    energyMix { isGreenEnergy energySources { source percentage } supplierName }
    parkingRestrictions parkingType } }
  ... on UserError { code message } } }
"""


async def test_opening_hours_energy_mix_and_parking_are_set_and_sent(
    live_server, cpo, connected, register, api_key, connect_charger
):
    site_id = await add_site(cpo, "Mall")
    await register("CP-MALL")
    await place("CP-MALL", site_id)
    async with connect_charger("CP-MALL") as station:
        await available(station)  # its EVSE and connector, as it reports them
    admin = await api_key(TEST_ORGANIZATION, "admin")
    site = str(global_id("Site", site_id))
    details = {
        "openingHours": {
            "twentyfourseven": False,
            "regularHours": [
                {"weekday": day, "periodBegin": "08:00", "periodEnd": "20:00"}
                for day in range(1, 7)
            ],
            "exceptionalClosings": [
                {"periodBegin": "2026-12-25T00:00:00Z", "periodEnd": "2026-12-26T00:00:00Z"}
            ],
        },
        "energyMix": {
            "isGreenEnergy": True,
            "energySources": [
                {"source": "SOLAR", "percentage": 40},
                {"source": "WIND", "percentage": 60},
            ],
            "supplierName": "Greenpower",
        },
        "parkingRestrictions": ["EV_ONLY", "PLUGGED", "EV_ONLY"],
        "parkingType": "UNDERGROUND_GARAGE",
    }
    saved = await graphql(live_server, SITE_DETAILS, {"id": site, "input": details}, admin)
    shown = saved["data"]["updateSite"]["site"]
    assert len(shown["openingHours"]["regularHours"]) == 6
    assert shown["energyMix"]["energySources"][1] == {"source": "WIND", "percentage": 60.0}
    assert shown["parkingRestrictions"] == ["EV_ONLY", "PLUGGED"]
    assert shown["parkingType"] == "UNDERGROUND_GARAGE"

    async with httpx.AsyncClient() as client:
        answer = await pull(client, f"{connected.base}/locations/{site_id}", connected.token)
    location = Location.model_validate(data_of(answer))
    assert location.opening_times is not None and not location.opening_times.twentyfourseven
    assert location.opening_times.regular_hours[0].period_begin == "08:00"
    assert location.opening_times.exceptional_closings[0].period_begin == "2026-12-25T00:00:00Z"
    assert location.energy_mix is not None and location.energy_mix.supplier_name == "Greenpower"
    assert location.parking_type is not None
    assert location.parking_type.value == "UNDERGROUND_GARAGE"
    [evse] = location.evses
    assert [each.value for each in evse.parking_restrictions] == ["EV_ONLY", "PLUGGED"]
    assert {each.value for each in evse.capabilities} == {
        "REMOTE_START_STOP_CAPABLE",
        "UNLOCK_CAPABLE",
    }

    for bad in (
        {"openingHours": {"twentyfourseven": False}},
        {
            "openingHours": {
                "twentyfourseven": False,
                "regularHours": [{"weekday": 8, "periodBegin": "08:00", "periodEnd": "20:00"}],
            }
        },
        {
            "openingHours": {
                "twentyfourseven": True,
                "regularHours": [{"weekday": 1, "periodBegin": "8am", "periodEnd": "20:00"}],
            }
        },
        {
            "energyMix": {
                "isGreenEnergy": True,
                "energySources": [
                    {"source": "SOLAR", "percentage": 70},
                    {"source": "WIND", "percentage": 40},
                ],
            }
        },
    ):
        refused = await graphql(live_server, SITE_DETAILS, {"id": site, "input": bad}, admin)
        assert refused["data"]["updateSite"]["code"] == "invalid_input", bad
    for unknown in ({"parkingRestrictions": ["TRUCKS"]}, {"parkingType": "ON_ROOF"}):
        refused = await graphql(live_server, SITE_DETAILS, {"id": site, "input": unknown}, admin)
        assert refused.get("errors"), refused  # not a value of the enum
    cleared = await graphql(
        live_server,
        SITE_DETAILS,
        {
            "id": site,
            "input": {"openingHours": None, "parkingRestrictions": [], "parkingType": None},
        },
        admin,
    )
    assert cleared["data"]["updateSite"]["site"]["openingHours"]["twentyfourseven"] is True
    assert cleared["data"]["updateSite"]["site"]["parkingRestrictions"] == []
    assert cleared["data"]["updateSite"]["site"]["parkingType"] is None
    async with httpx.AsyncClient() as client:
        answer = await pull(client, f"{connected.base}/locations/{site_id}", connected.token)
    assert Location.model_validate(data_of(answer)).evses[0].parking_restrictions == []
    assert "parking_type" not in data_of(answer)
