"""EVSE statuses reach a connected partner's locations receiver within seconds, in order,
and a partner that was down gets the current state when it is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from ocpp.v16 import call as call16

from db.tables import Evse, Partner, Site
from ocpi.v221.models import Evse as OcpiEvse
from ocpi.v221.models import Location
from schema.ids import global_id
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.emsp import data_of
from tests.ocpi.test_locations import add_site, available, place, pull
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_offline import eventually

PARTNERS = """
{ partners { edges { node { lastPushAt pushFailingSince pushError } } } }
"""


async def status(station, connector_id: int, value: str, error: str = "NoError") -> None:
    await station.call(
        call16.StatusNotification(connector_id=connector_id, error_code=error, status=value)
    )


async def pushes_started() -> bool:
    row = await Partner.select(Partner.push_cursor).first()
    return row is not None and row["push_cursor"] is not None


async def test_statuses_are_pushed_in_order_and_caught_up_after_an_outage(
    live_server, cpo, connected, register, connect_charger, api_key
):
    site_id = await add_site(cpo, "Pushed")
    await register("CP-PUSH")
    await place("CP-PUSH", site_id)
    emsp = connected.emsp
    assert await eventually(pushes_started)  # a new partner's pushes start from now

    async with connect_charger("CP-PUSH") as station:
        await booted(station, "ocpp1.6")
        await status(station, 1, "Available")
        await status(station, 1, "Charging")

        async def evse_uid() -> int | None:
            row = await Evse.select(Evse.id).where(Evse.evse_id == 1).first()
            return row["id"] if row else None

        uid = await eventually(evse_uid)

        async def pushed(expected: str) -> bool:
            return emsp.statuses(site_id, uid)[-1:] == [expected]

        assert await eventually(lambda: pushed("CHARGING"))
        # The eMSP had not been sent this Location (it would have pulled it): it refused the
        # first update, and got the whole Location instead; updates follow as PATCHes.
        assert emsp.known_locations == {str(site_id)}
        assert any(body.get("put") for _, body in emsp.evse_updates)
        seen = emsp.statuses(site_id, uid)
        # In order: never an older state after a newer one.
        assert seen[-1] == "CHARGING" and "AVAILABLE" not in seen[seen.index("CHARGING") :]

        # The partner goes down; what changes meanwhile reaches it, coalesced, once it is back.
        emsp.down = True
        await status(station, 1, "Finishing")
        await status(station, 1, "Available")
        await status(station, 1, "Faulted", error="GroundFailure")

        async def failing() -> bool:
            row = await Partner.select(Partner.push_failing_since).first()
            return row is not None and row["push_failing_since"] is not None

        assert await eventually(failing)
        admin = await api_key(TEST_ORGANIZATION, "admin")
        health = await graphql(live_server, PARTNERS, token=admin)
        node = health["data"]["partners"]["edges"][0]["node"]
        assert node["pushFailingSince"] and "503" in node["pushError"]
        before = len(emsp.evse_updates)
        emsp.down = False
        assert await eventually(lambda: pushed("OUTOFORDER"), timeout_s=15)
        assert emsp.statuses(site_id, uid)[before:] == ["OUTOFORDER"]
        assert not any(body.get("put") for _, body in emsp.evse_updates[before:])

        async def recovered() -> bool:  # written once the whole pass is through
            health = await graphql(live_server, PARTNERS, token=admin)
            node = health["data"]["partners"]["edges"][0]["node"]
            return bool(node["lastPushAt"]) and node["pushFailingSince"] is None

        assert await eventually(recovered)

    # The station is gone: its EVSEs are pushed as UNKNOWN.
    assert await eventually(lambda: pushed("UNKNOWN"))


ALERTS = """
{ alerts(filter: {status: OPEN}) { edges { node { kind severity message } } } }
"""


async def test_a_partner_down_for_an_hour_is_an_alert_until_it_takes_updates_again(
    live_server, cpo, connected, register, connect_charger, api_key
):
    site_id = await add_site(cpo, "Watched")
    await register("CP-WATCH")
    await place("CP-WATCH", site_id)
    emsp = connected.emsp
    assert await eventually(pushes_started)
    admin = await api_key(TEST_ORGANIZATION, "admin")

    async def open_alerts() -> list[dict]:
        found = await graphql(live_server, ALERTS, token=admin)
        return [edge["node"] for edge in found["data"]["alerts"]["edges"]]

    async with connect_charger("CP-WATCH") as station:
        await booted(station, "ocpp1.6")
        emsp.down = True
        await status(station, 1, "Available")
        # Pushes have failed for more than an hour (as if): the next failure raises an alert.
        await Partner.update(
            {Partner.push_failing_since: datetime.now(UTC) - timedelta(hours=2)}
        ).where(Partner.id.is_not_null())

        async def alerted() -> bool:
            return any(alert["kind"] == "PARTNER_UNREACHABLE" for alert in await open_alerts())

        assert await eventually(alerted, timeout_s=20)
        (alert,) = [a for a in await open_alerts() if a["kind"] == "PARTNER_UNREACHABLE"]
        assert alert["severity"] == "CRITICAL" and "Test Mobility" in alert["message"]
        emsp.down = False

        async def resolved() -> bool:
            return not await alerted()

        assert await eventually(resolved, timeout_s=20)


PLACE = """
mutation ($identity: String!, $site: ID!) { updateStation(identity: $identity,
  input: {siteId: $site}) { __typename ... on UserError { code message } } }
"""
RENAME = """
mutation ($id: ID!, $name: String!) { updateSite(id: $id, input: {name: $name}) {
  __typename ... on UserError { code message } } }
"""


async def following() -> bool:
    """Whether the partner has a place in the sites' changes (from its registration on)."""
    row = await Partner.select(Partner.location_cursor).first()
    return row is not None and row["location_cursor"] is not None


async def test_a_new_location_and_a_changed_one_are_sent_whole(
    live_server, cpo, connected, register, api_key
):
    emsp = connected.emsp
    admin = await api_key(TEST_ORGANIZATION, "admin")
    assert await eventually(following)  # changes are sent from the partner's registration on
    site_id = await add_site(cpo, "Opened later")
    site = str(global_id("Site", site_id))
    await register("CP-WHOLE")
    # The site becomes a Location when its first station is placed there.
    placed = await graphql(live_server, PLACE, {"identity": "CP-WHOLE", "site": site}, admin)
    assert placed["data"]["updateStation"]["__typename"] != "UserError", placed

    async def sent(name: str) -> bool:
        shown = emsp.locations.get(str(site_id))
        return shown is not None and shown.name == name

    assert await eventually(lambda: sent("Opened later"), timeout_s=15)
    assert len(emsp.locations[str(site_id)].evses) == 0  # no EVSE reported yet
    renamed = await graphql(live_server, RENAME, {"id": site, "name": "Renamed"}, admin)
    assert renamed["data"]["updateSite"]["__typename"] != "UserError", renamed
    assert await eventually(lambda: sent("Renamed"), timeout_s=15)


DELETE_STATION = """
mutation ($identity: String!) { deleteStation(identity: $identity) {
  __typename ... on UserError { code message } } }
"""


async def test_an_evse_that_leaves_its_location_stays_there_as_removed(
    live_server, cpo, connected, register, api_key, connect_charger
):
    emsp = connected.emsp
    admin = await api_key(TEST_ORGANIZATION, "admin")
    assert await eventually(following)  # changes are sent from the partner's registration on
    first, second = await add_site(cpo, "First"), await add_site(cpo, "Second")
    await register("CP-MOVES")
    await place("CP-MOVES", first)
    async with connect_charger("CP-MOVES") as station:
        uid = str(await available(station))

    async def move_to(site_id: int) -> None:
        site = str(global_id("Site", site_id))
        moved = await graphql(live_server, PLACE, {"identity": "CP-MOVES", "site": site}, admin)
        assert moved["data"]["updateStation"]["__typename"] != "UserError", moved

    async def shown(site_id: int) -> dict[str, str]:
        """The EVSEs of the Location as the partner pulls it: uid -> status."""
        async with httpx.AsyncClient() as client:
            answer = await pull(client, f"{connected.base}/locations/{site_id}", connected.token)
        location = Location.model_validate(data_of(answer))
        return {evse.uid: evse.status.value for evse in location.evses}

    async def pushed(site_id: int, status: str) -> bool:
        location = emsp.locations.get(str(site_id))
        return location is not None and [(e.uid, e.status.value) for e in location.evses] == [
            (uid, status)
        ]

    # Moved away: the first Location keeps the EVSE as REMOVED (with its connector), pushed
    # whole and pulled alike; the second one has it.
    await move_to(second)
    assert await shown(first) == {uid: "REMOVED"}
    assert await shown(second) == {uid: "UNKNOWN"}  # the station is offline
    assert await eventually(lambda: pushed(first, "REMOVED"), timeout_s=15)
    [removed] = emsp.locations[str(first)].evses
    assert removed.connectors[0].standard.value == "IEC_62196_T2"
    async with httpx.AsyncClient() as client:
        single = await pull(client, f"{connected.base}/locations/{first}/{uid}", connected.token)
    assert OcpiEvse.model_validate(data_of(single)).status.value == "REMOVED"

    # Back again: there once, not removed; now removed from the second.
    await move_to(first)
    assert await shown(first) == {uid: "UNKNOWN"}
    assert await shown(second) == {uid: "REMOVED"}

    # Deleted: removed where it was.
    deleted = await graphql(live_server, DELETE_STATION, {"identity": "CP-MOVES"}, admin)
    assert deleted["data"]["deleteStation"]["__typename"] == "Deleted", deleted
    assert await shown(first) == {uid: "REMOVED"}
    assert await eventually(lambda: pushed(first, "REMOVED"), timeout_s=15)


DELETE_SITE = """
mutation ($id: ID!) { deleteSite(id: $id) { __typename ... on UserError { code message } } }
"""
SITES = "{ sites { totalCount edges { node { name } } } }"
STATION_SITE = """
query ($identity: String!) { station(identity: $identity) { site { name } } }
"""


async def test_a_deleted_location_stays_for_partners_with_its_evses_removed(
    live_server, cpo, connected, register, api_key, connect_charger
):
    emsp = connected.emsp
    admin = await api_key(TEST_ORGANIZATION, "admin")
    assert await eventually(following)
    closing, unknown = await add_site(cpo, "Closing"), await add_site(cpo, "Never a Location")
    await register("CP-CLOSING")
    await place("CP-CLOSING", closing)
    async with connect_charger("CP-CLOSING") as station:
        uid = str(await available(station))

    async def pushed(status: str) -> bool:
        location = emsp.locations.get(str(closing))
        return location is not None and [(e.uid, e.status.value) for e in location.evses] == [
            (uid, status)
        ]

    assert await eventually(lambda: pushed("UNKNOWN"), timeout_s=15)

    # Deleted: gone from the API, the station stays without a site; the partner is told
    # its EVSE is REMOVED, and can still pull the Location so.
    site = str(global_id("Site", closing))
    deleted = await graphql(live_server, DELETE_SITE, {"id": site}, admin)
    assert deleted["data"]["deleteSite"]["__typename"] == "Deleted", deleted
    assert await eventually(lambda: pushed("REMOVED"), timeout_s=15)
    async with httpx.AsyncClient() as client:
        answer = await pull(client, f"{connected.base}/locations/{closing}", connected.token)
    pulled = Location.model_validate(data_of(answer))
    assert [(evse.uid, evse.status.value) for evse in pulled.evses] == [(uid, "REMOVED")]
    sites = await graphql(live_server, SITES, {}, admin)
    names = [edge["node"]["name"] for edge in sites["data"]["sites"]["edges"]]
    assert names == ["Never a Location"] and sites["data"]["sites"]["totalCount"] == 1
    found = await graphql(live_server, STATION_SITE, {"identity": "CP-CLOSING"}, admin)
    assert found["data"]["station"]["site"] is None
    again = await graphql(live_server, DELETE_SITE, {"id": site}, admin)
    assert again["data"]["deleteSite"]["code"] == "not_found"
    renamed = await graphql(live_server, RENAME, {"id": site, "name": "Back"}, admin)
    assert renamed["data"]["updateSite"]["code"] == "not_found"
    moved = await graphql(live_server, PLACE, {"identity": "CP-CLOSING", "site": site}, admin)
    assert moved["data"]["updateStation"]["code"] == "not_found"

    # A site partners never knew is simply deleted.
    other = str(global_id("Site", unknown))
    gone = await graphql(live_server, DELETE_SITE, {"id": other}, admin)
    assert gone["data"]["deleteSite"]["__typename"] == "Deleted"
    assert await Site.count().where(Site.id == unknown) == 0
    assert await Site.count().where(Site.id == closing) == 1
