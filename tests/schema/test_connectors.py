"""Describing connectors through the API; the station's own reports land on the same rows."""

import asyncio

from ocpp.v16 import call
from strawberry import relay

from app.timeparse import utcnow
from db.tables import ChargingSession, Connector, Evse, Organization
from tests.conftest import graphql

CREATE = """
mutation ($identity: String!, $evse: Int!, $connector: Int!, $input: ConnectorInput) {
  createConnector(identity: $identity, evseId: $evse, connectorId: $connector, input: $input) {
    __typename
    ... on ConnectorSaved { connector { id standard format powerType maxPowerW status } }
    ... on UserError { code message }
  }
}
"""
UPDATE = """
mutation ($id: ID!, $input: ConnectorInput!) { updateConnector(id: $id, input: $input) {
  __typename ... on ConnectorSaved { connector { standard maxPowerW maxAmperage } }
  ... on UserError { code message } } }
"""
DELETE = """
mutation ($id: ID!) { deleteConnector(id: $id) {
  __typename ... on Deleted { id } ... on UserError { code message } } }
"""
STATION = """
query ($id: ID!) { node(id: $id) { ... on ChargingStation {
  evses { evseId connectors { connectorId standard status station { identity } } }
} } }
"""
CONNECTOR = """
query ($id: ID!) { node(id: $id) { ... on Connector { status rawStatus lastReportedStatus } } }
"""
DC = {"standard": "IEC_62196_T2_COMBO", "format": "CABLE", "powerType": "DC", "maxPowerW": 150000}


def _global(type_name: str, row_id: int) -> str:
    return str(relay.GlobalID(type_name, str(row_id)))


async def _status(station, connector_id: int, status: str) -> None:
    await station.call(
        call.StatusNotification(connector_id=connector_id, error_code="NoError", status=status)
    )


async def test_a_described_connector_gets_the_stations_status_and_is_removed_cleanly(
    live_server, organization, api_key, register, connect_charger
):
    admin = await api_key()
    station_id = (await register("CP-DESC")).id
    created = (
        await graphql(
            live_server,
            CREATE,
            {"identity": "CP-DESC", "evse": 1, "connector": 1, "input": DC},
            admin,
        )
    )["data"]["createConnector"]
    assert created["__typename"] == "ConnectorSaved"
    # Never connected: offline, whatever the row says.
    assert created["connector"]["status"] == "OFFLINE"
    async with connect_charger("CP-DESC") as station:
        await station.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
        await _status(station, 1, "Charging")
        await _status(station, 2, "Available")
        node = await graphql(
            live_server, STATION, {"id": _global("ChargingStation", station_id)}, admin
        )
        evses = node["data"]["node"]["evses"]
        assert [evse["evseId"] for evse in evses] == [1, 2]
        assert evses[0]["connectors"] == [
            {
                "connectorId": 1,
                "standard": "IEC_62196_T2_COMBO",
                "status": "CHARGING",
                "station": {"identity": "CP-DESC"},
            }
        ]
        second = await Connector.select(Connector.id).where(Connector.evse.evse_id == 2).first()
        assert second is not None
        deleted = await graphql(
            live_server, DELETE, {"id": _global("Connector", second["id"])}, admin
        )
        assert deleted["data"]["deleteConnector"]["__typename"] == "Deleted"
        assert await Evse.count().where(Evse.station == station_id) == 1
        # The station still reports it: it comes back as a new row, not as a write to the
        # deleted one (every node forgot the row ids it had cached).
        for _ in range(50):
            await _status(station, 2, "Faulted")
            if await Connector.exists().where(
                (Connector.evse.evse_id == 2) & (Connector.status == "Faulted")
            ):
                break
            await asyncio.sleep(0.05)
        assert await Connector.exists().where(
            (Connector.evse.evse_id == 2) & (Connector.status == "Faulted")
        )
    # Gone: its connectors read OFFLINE, the last report still beside it.
    for _ in range(100):
        offline = await graphql(live_server, CONNECTOR, {"id": created["connector"]["id"]}, admin)
        if offline["data"]["node"]["status"] == "OFFLINE":
            break
        await asyncio.sleep(0.05)
    assert offline["data"]["node"] == {
        "status": "OFFLINE",
        "rawStatus": "Charging",
        "lastReportedStatus": "CHARGING",
    }
    updated = await graphql(
        live_server,
        UPDATE,
        {"id": created["connector"]["id"], "input": {"maxPowerW": 50000, "maxAmperage": 125}},
        admin,
    )
    assert updated["data"]["updateConnector"]["connector"] == {
        "standard": "IEC_62196_T2_COMBO",
        "maxPowerW": 50000,
        "maxAmperage": 125,
    }


async def test_bad_connector_input_is_typed_and_writes_nothing(
    live_server, organization, api_key, register
):
    admin = await api_key()
    await register("CP-BAD")
    cases = [
        ({"identity": "CP-BAD", "evse": 0, "connector": 1}, "invalid_input"),
        (
            {"identity": "CP-BAD", "evse": 1, "connector": 1, "input": {"maxPowerW": -5}},
            "invalid_input",
        ),
        ({"identity": "CP-NONE", "evse": 1, "connector": 1}, "not_found"),
    ]
    for variables, code in cases:
        result = await graphql(live_server, CREATE, variables, admin)
        assert result["data"]["createConnector"]["code"] == code, variables
    assert await Connector.count() == 0
    assert await Evse.count() == 0
    unknown_plug = await graphql(
        live_server,
        CREATE,
        {"identity": "CP-BAD", "evse": 1, "connector": 1, "input": {"standard": "PLUG_9"}},
        admin,
    )
    assert unknown_plug["errors"]  # not a value of the enum: rejected by validation
    first = await graphql(
        live_server, CREATE, {"identity": "CP-BAD", "evse": 1, "connector": 1}, admin
    )
    assert first["data"]["createConnector"]["__typename"] == "ConnectorSaved"
    again = await graphql(
        live_server, CREATE, {"identity": "CP-BAD", "evse": 1, "connector": 1}, admin
    )
    assert again["data"]["createConnector"]["code"] == "already_exists"


async def test_roles_sessions_and_organizations_guard_connectors(
    live_server, organization, api_key, register
):
    admin, operator = await api_key(), await api_key(role="operator")
    station_id = (await register("CP-GUARD")).id
    denied = await graphql(
        live_server, CREATE, {"identity": "CP-GUARD", "evse": 1, "connector": 1}, operator
    )
    assert denied["data"]["createConnector"]["__typename"] == "NotPermittedError"
    created = (
        await graphql(
            live_server, CREATE, {"identity": "CP-GUARD", "evse": 1, "connector": 1}, admin
        )
    )["data"]["createConnector"]["connector"]
    row = await Connector.select(Connector.id).first()
    assert row is not None
    await ChargingSession.insert(
        ChargingSession(
            organization=organization,
            station=station_id,
            connector=row["id"],
            transaction_id="1",
            started_at=utcnow(),
        )
    )
    kept = await graphql(live_server, DELETE, {"id": created["id"]}, admin)
    assert kept["data"]["deleteConnector"]["code"] == "invalid_input"
    await Organization.insert(Organization(name="Other", slug="other"))
    theirs = await api_key("other", "admin")
    for query, variables in (
        (DELETE, {"id": created["id"]}),
        (UPDATE, {"id": created["id"], "input": {"maxPowerW": 1}}),
    ):
        result = await graphql(live_server, query, variables, theirs)
        assert next(iter(result["data"].values()))["__typename"] == "NotFoundError"
    elsewhere = await graphql(
        live_server, CREATE, {"identity": "CP-GUARD", "evse": 1, "connector": 2}, theirs
    )
    assert elsewhere["data"]["createConnector"]["__typename"] == "NotFoundError"
    assert await Connector.count() == 1
