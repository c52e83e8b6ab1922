"""Live feeds over GraphQL websockets, fed by real OCPP stations: filters and isolation."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from strawberry import relay

from app.commands import models
from db.tables import ChargingStation, Organization, Site
from tests.conftest import TEST_ORGANIZATION
from tests.graphql_ws import LEGACY_WS, TRANSPORT_WS, graphql_ws
from tests.ocpp_server.test_commands import Station16, booted

CONNECTOR_STATUS = """
subscription ($identity: String, $siteId: ID) {
  connectorStatus(identity: $identity, siteId: $siteId) {
    identity evseId connectorId status errorCode
  }
}
"""


def status(connector: int, value: str) -> call.StatusNotification:
    return call.StatusNotification(connector_id=connector, error_code="NoError", status=value)


async def first_event(client, send_until_seen) -> dict:
    """There is no acknowledgement per subscription: act until the first event arrives."""
    for _attempt in range(50):
        await send_until_seen()
        try:
            return await asyncio.wait_for(client.next_data(), 0.2)
        except TimeoutError:
            continue
    pytest.fail("no subscription event")


async def put_in_site(organization: int, identity: str, name: str) -> str:
    """The site's global id."""
    site = Site(organization=organization, name=name)
    await site.save()
    await ChargingStation.update({ChargingStation.site: site.id}).where(
        ChargingStation.identity == identity
    )
    return str(relay.GlobalID("Site", str(site.id)))


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_connector_status_of_a_site(
    live_server, organization, register, api_key, connect_charger, protocol
):
    await register("CP-SITE-A")
    await register("CP-ELSEWHERE")
    site_id = await put_in_site(organization, "CP-SITE-A", "Garage")
    token = await api_key(role="viewer")
    async with (
        graphql_ws(f"{live_server.ws}/graphql", protocol, token) as client,
        connect_charger("CP-SITE-A") as in_site,
        connect_charger("CP-ELSEWHERE") as elsewhere,
    ):
        await client.subscribe(CONNECTOR_STATUS, {"siteId": site_id})

        async def report() -> None:
            await elsewhere.call(status(1, "Faulted"))  # not in the site: never delivered
            await in_site.call(status(1, "Charging"))

        event = await first_event(client, report)
        assert event["connectorStatus"] == {
            "identity": "CP-SITE-A",
            "evseId": 1,
            "connectorId": 1,
            "status": "CHARGING",
            "errorCode": None,
        }
        await elsewhere.call(status(2, "Faulted"))
        await in_site.call(status(2, "Preparing"))
        second = await asyncio.wait_for(client.next_data(), 5)
        assert (second["connectorStatus"]["identity"], second["connectorStatus"]["evseId"]) == (
            "CP-SITE-A",
            2,
        )


async def test_another_organization_sees_none_of_our_events(
    live_server, organization, register, api_key, connect_charger
):
    await Organization.insert(Organization(name="Other", slug="other"))
    ours = await api_key(TEST_ORGANIZATION, "viewer")
    theirs = await api_key("other", "admin")
    await register("CP-PRIVATE")
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, ours) as our_client,
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, theirs) as their_client,
        connect_charger("CP-PRIVATE") as station,
    ):
        await their_client.subscribe(CONNECTOR_STATUS)
        await our_client.subscribe(CONNECTOR_STATUS)
        await first_event(our_client, lambda: station.call(status(1, "Available")))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(their_client.next_data(), 0.5)


async def test_command_results_are_live(live_server, register, api_key, connect_charger):
    from app.commands.service import send_command

    await register("CP-CMD-FEED")
    app = live_server.app
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, await api_key()) as client,
        connect_charger("CP-CMD-FEED", client_class=Station16) as station,
    ):
        await booted(station, "ocpp1.6")
        await client.subscribe(
            'subscription { commandResults(identity: "CP-CMD-FEED") '
            "{ identity action status stationStatus errorCode } }"
        )

        async def reset() -> None:
            await send_command(
                app.state.gateway,
                app.state.runtime.unit_of_work,
                "CP-CMD-FEED",
                models.Reset(),
            )

        event = await first_event(client, reset)
    assert event["commandResults"] == {
        "identity": "CP-CMD-FEED",
        "action": "RESET",
        "status": "ACCEPTED",
        "stationStatus": "Accepted",
        "errorCode": None,
    }


async def test_a_session_feed_follows_energy_and_power(
    live_server, organization, register, api_key, connect_charger
):
    from db.tables import IdToken

    await IdToken.insert(IdToken(organization=organization, uid="FEEDCARD"))
    await register("CP-SESSION-FEED")
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, await api_key()) as client,
        connect_charger("CP-SESSION-FEED") as station,
    ):
        await client.subscribe(
            'subscription { sessions(identity: "CP-SESSION-FEED") '
            "{ transactionId phase state energyWh powerW } }"
        )
        attempts = iter(range(1, 51))

        async def start() -> None:  # a new session per attempt: one of them is seen
            await station.call(
                call.StartTransaction(
                    connector_id=next(attempts),
                    id_tag="FEEDCARD",
                    meter_start=1000,
                    timestamp="2026-11-23T10:00:00Z",
                )
            )

        first = await first_event(client, start)
        assert first["sessions"]["phase"] == "started"
        started = {"id": int(first["sessions"]["transactionId"])}
        await station.call(
            call.MeterValues(
                connector_id=1,  # the transaction id decides the session
                transaction_id=started["id"],
                meter_value=[
                    {
                        "timestamp": "2026-11-23T10:05:00Z",
                        "sampledValue": [
                            {"value": "3500", "measurand": "Energy.Active.Import.Register"},
                            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            )
        )
        update = await asyncio.wait_for(client.next_data(), 5)
    assert update["sessions"] == {
        "transactionId": str(started["id"]),
        "phase": "updated",
        "state": "ACTIVE",
        "energyWh": 2500,
        "powerW": 11000,
    }


async def test_a_status_event_carries_the_time_the_station_gives(
    live_server, register, api_key, connect_charger
):
    await register("CP-REPLAYED")
    token = await api_key(role="viewer")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    query = (
        "subscription ($identity: String) "
        "{ connectorStatus(identity: $identity) { status occurredAt } }"
    )
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, token) as client,
        connect_charger("CP-REPLAYED") as station,
    ):
        await client.subscribe(query, {"identity": "CP-REPLAYED"})
        event = await first_event(
            client,
            lambda: station.call(
                call.StatusNotification(
                    connector_id=1,
                    error_code="NoError",
                    status="Faulted",
                    timestamp=an_hour_ago.isoformat(),
                )
            ),
        )
    assert datetime.fromisoformat(event["connectorStatus"]["occurredAt"]) == an_hour_ago
