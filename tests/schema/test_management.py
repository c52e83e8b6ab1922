"""Managing sites and stations through the API, proved by real stations connecting."""

import pytest
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from app.timeparse import utcnow
from db.tables import ChargingSession, ChargingStation, Organization
from tests.conftest import graphql

SITE = """
mutation ($input: SiteInput!) { createSite(input: $input) {
  __typename ... on SiteSaved { site { id name timeZone } } ... on UserError { code message } } }
"""
STATION = """
mutation ($identity: String!, $input: StationInput) {
  createStation(identity: $identity, input: $input) {
    __typename
    ... on StationSaved { station { id identity name securityProfile freeVend site { name } } }
    ... on UserError { code message }
  }
}
"""
UPDATE_STATION = """
mutation ($identity: String!, $input: StationInput!) {
  updateStation(identity: $identity, input: $input) {
    __typename
    ... on StationSaved { station { name securityProfile site { name } } }
    ... on UserError { code message }
  }
}
"""
DELETE_STATION = """
mutation ($identity: String!) { deleteStation(identity: $identity) {
  __typename ... on Deleted { id } ... on UserError { code message } } }
"""
PASSWORD = "a-password-of-20-ch"


async def test_an_admin_builds_a_site_with_a_station_that_then_connects(
    live_server, organization, api_key, connect_charger
):
    admin = await api_key(role="admin")
    site = (
        await graphql(
            live_server, SITE, {"input": {"name": "Depot", "timeZone": "Europe/Berlin"}}, admin
        )
    )["data"]["createSite"]
    assert site["__typename"] == "SiteSaved"
    created = (
        await graphql(
            live_server,
            STATION,
            {
                "identity": "CP-NEW-01",
                "input": {"name": "Bay 1", "siteId": site["site"]["id"], "password": PASSWORD},
            },
            admin,
        )
    )["data"]["createStation"]
    assert created["__typename"] == "StationSaved"
    assert created["station"]["securityProfile"] == 1
    assert created["station"]["site"] == {"name": "Depot"}
    async with connect_charger("CP-NEW-01", password=PASSWORD) as station:
        boot = await station.call(
            call.BootNotification(charge_point_vendor="V", charge_point_model="M")
        )
    assert boot.status == "Accepted"
    new_password = "another-password-20ch"
    changed = await graphql(
        live_server,
        UPDATE_STATION,
        {"identity": "CP-NEW-01", "input": {"password": new_password, "name": "Bay 1a"}},
        admin,
    )
    assert changed["data"]["updateStation"]["station"]["name"] == "Bay 1a"
    assert changed["data"]["updateStation"]["station"]["site"] == {"name": "Depot"}  # unchanged
    with pytest.raises(InvalidStatus):
        async with connect_charger("CP-NEW-01", password=PASSWORD):
            pass
    async with connect_charger("CP-NEW-01", password=new_password):
        pass


@pytest.mark.parametrize(
    ("identity", "input", "code"),
    [
        ("has/slash", None, "invalid_input"),
        ("CP-X", {"password": "short"}, "invalid_input"),
        ("CP-X", {"securityProfile": 7}, "invalid_input"),
        ("CP-X", {"assumedProtocol": "ocpp9"}, "invalid_input"),
        ("CP-TAKEN", None, "already_exists"),
    ],
)
async def test_bad_station_input_is_a_typed_error_and_nothing_is_written(
    live_server, organization, register, api_key, identity, input, code
):
    await register("CP-TAKEN")
    before = await ChargingStation.count()
    result = await graphql(
        live_server, STATION, {"identity": identity, "input": input}, await api_key()
    )
    assert result["data"]["createStation"]["code"] == code
    assert await ChargingStation.count() == before


async def test_operators_approve_but_do_not_create(live_server, organization, api_key, register):
    operator = await api_key(role="operator")
    denied = await graphql(live_server, STATION, {"identity": "CP-OP"}, operator)
    assert denied["data"]["createStation"]["__typename"] == "NotPermittedError"
    await register("CP-PENDING")
    await ChargingStation.update({ChargingStation.registration_status: "Pending"}).where(
        ChargingStation.identity == "CP-PENDING"
    )
    approved = await graphql(
        live_server,
        'mutation { approveStation(identity: "CP-PENDING") { __typename '
        "... on StationSaved { station { registrationStatus } } } }",
        token=operator,
    )
    assert approved["data"]["approveStation"]["station"]["registrationStatus"] == "ACCEPTED"


async def test_a_station_with_sessions_is_kept_and_another_organizations_is_not_found(
    live_server, organization, register, api_key
):
    admin = await api_key()
    await register("CP-USED")
    await register("CP-UNUSED")
    used = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == "CP-USED")
        .first()
    )
    assert used is not None
    await ChargingSession.insert(
        ChargingSession(
            organization=organization, station=used["id"], transaction_id="1", started_at=utcnow()
        )
    )
    kept = await graphql(live_server, DELETE_STATION, {"identity": "CP-USED"}, admin)
    assert kept["data"]["deleteStation"]["code"] == "invalid_input"
    gone = await graphql(live_server, DELETE_STATION, {"identity": "CP-UNUSED"}, admin)
    assert gone["data"]["deleteStation"]["__typename"] == "Deleted"
    assert not await ChargingStation.exists().where(ChargingStation.identity == "CP-UNUSED")
    await Organization.insert(Organization(name="Other", slug="other"))
    theirs = await api_key("other", "admin")
    result = await graphql(live_server, DELETE_STATION, {"identity": "CP-USED"}, theirs)
    assert result["data"]["deleteStation"]["__typename"] == "NotFoundError"
    update = await graphql(
        live_server, UPDATE_STATION, {"identity": "CP-USED", "input": {"name": "mine"}}, theirs
    )
    assert update["data"]["updateStation"]["__typename"] == "NotFoundError"
