"""Alerts as they happen: opened by what stations do, resolved by hand or when the condition
clears, and delivered live."""

from ocpp.v16 import call

from db.tables import Alert, Organization
from tests.conftest import REGISTRY_ORGANIZATION, graphql
from tests.graphql_ws import TRANSPORT_WS, graphql_ws
from tests.schema.test_subscriptions import first_event

ALERTS = """
subscription ($identity: String) {
  alerts(identity: $identity) { id kind severity status message station { identity } }
}
"""
RESOLVE = """
mutation ($id: ID!) { resolveAlert(id: $id) {
  __typename ... on AlertResolved { alert { status resolvedAt } } ... on UserError { code } } }
"""
NOW = "2026-01-01T00:00:00Z"


async def test_a_security_event_alerts_live_once_and_an_operator_resolves_it(
    live_server, register, api_key, connect_charger
):
    await register("CP-ALERT")
    await register("CP-QUIET")
    operator = await api_key(role="operator")
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, operator) as client,
        connect_charger("CP-ALERT") as station,
        connect_charger("CP-QUIET") as other,
    ):
        await client.subscribe(ALERTS, {"identity": "CP-ALERT"})
        attempt = 0

        async def tamper() -> None:
            nonlocal attempt
            attempt += 1
            await other.call(
                call.SecurityEventNotification(type="Other", timestamp=NOW, tech_info=None)
            )
            await station.call(
                call.SecurityEventNotification(
                    type=f"Tamper{attempt}", timestamp=NOW, tech_info=None
                )
            )

        opened = (await first_event(client, tamper))["alerts"]
        assert opened["kind"] == "SECURITY_EVENT"
        assert (opened["severity"], opened["status"]) == ("WARNING", "OPEN")
        assert opened["station"] == {"identity": "CP-ALERT"}
        repeated = await Alert.count().where(Alert.kind == "security_event")
        await station.call(
            call.SecurityEventNotification(type=f"Tamper{attempt}", timestamp=NOW, tech_info=None)
        )
        assert await Alert.count().where(Alert.kind == "security_event") == repeated

        viewer = await api_key(role="viewer")
        refused = await graphql(live_server, RESOLVE, {"id": opened["id"]}, viewer)
        assert refused["data"]["resolveAlert"]["__typename"] == "NotPermittedError"
        resolved = await graphql(live_server, RESOLVE, {"id": opened["id"]}, operator)
        assert resolved["data"]["resolveAlert"]["alert"]["status"] == "RESOLVED"
        live = await client.next_data()
        while live["alerts"]["id"] != opened["id"]:  # later attempts' alerts, if any
            live = await client.next_data()
        assert live["alerts"]["status"] == "RESOLVED"


async def test_a_pending_station_alerts_until_an_operator_approves_it(
    live_server, api_key, connect_charger
):
    await Organization.update({Organization.unknown_station_policy: "pending"}).where(
        Organization.slug == REGISTRY_ORGANIZATION
    )
    operator = await api_key(REGISTRY_ORGANIZATION, "operator")
    for _ in range(2):  # booting again while waiting does not open a second alert
        async with connect_charger("CP-NEWBIE") as station:
            boot = await station.call(
                call.BootNotification(charge_point_vendor="V", charge_point_model="M")
            )
            assert boot.status == "Pending"
    query = "{ alerts(filter: {status: OPEN}) { edges { node { kind station { identity } } } } }"
    open_alerts = (await graphql(live_server, query, token=operator))["data"]["alerts"]["edges"]
    assert [edge["node"] for edge in open_alerts] == [
        {"kind": "STATION_PENDING", "station": {"identity": "CP-NEWBIE"}}
    ]
    approved = await graphql(
        live_server,
        'mutation { approveStation(identity: "CP-NEWBIE") { __typename } }',
        token=operator,
    )
    assert approved["data"]["approveStation"]["__typename"] == "StationSaved"
    after = (await graphql(live_server, query, token=operator))["data"]["alerts"]["edges"]
    assert after == []


async def test_admins_set_the_healing_rules_and_bad_values_are_named(
    live_server, organization, api_key
):
    mutation = """
    mutation ($s: JSON!) { updateHealingSettings(settings: $s) {
      __typename ... on HealingSettings { settings } ... on UserError { code message } } }
    """
    admin = await api_key()
    saved = await graphql(
        live_server, mutation, {"s": {"max_attempts": 2, "offline_alert_after_s": 60}}, admin
    )
    assert saved["data"]["updateHealingSettings"]["settings"] == {
        "max_attempts": 2,
        "offline_alert_after_s": 60,
    }
    bad = await graphql(live_server, mutation, {"s": {"max_attempts": 99}}, admin)
    assert bad["data"]["updateHealingSettings"]["code"] == "invalid_input"
    assert "max_attempts" in bad["data"]["updateHealingSettings"]["message"]
    operator = await graphql(live_server, mutation, {"s": {}}, await api_key(role="operator"))
    assert operator["data"]["updateHealingSettings"]["__typename"] == "NotPermittedError"
    shown = await graphql(live_server, "{ healingSettings }", token=admin)
    assert shown["data"]["healingSettings"] == {"max_attempts": 2, "offline_alert_after_s": 60}
