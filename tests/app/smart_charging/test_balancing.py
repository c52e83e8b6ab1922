"""Site load balancing against real stations of both OCPP versions: the limits in force,
computed from what each station received as a station would apply them, stay within the
site's grid capacity as sessions start and stop and a demand response event comes and goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.smart_charging.balancing import SITE_LIMIT_STACK_LEVEL, SITE_PROFILE_ID_BASE
from db.tables import ChargingProfile, ChargingStation, Site
from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_offline import eventually
from tests.ocpp_server.test_more_commands import MoreStation16, MoreStation201
from tests.ocpp_server.test_v201 import transaction_event

CAPACITY = 20
NOW = "2026-12-01T10:00:00Z"
# What both stations received, in the order they received it: (identity, limit, transaction).
received: list[tuple[str, float, str]] = []


class Limited16(MoreStation16):
    @on(Action16.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        profile = payload["cs_charging_profiles"]
        [period] = profile["charging_schedule"]["charging_schedule_period"]
        received.append((self.id, float(period["limit"]), str(profile["transaction_id"])))
        self.received.append(("SetChargingProfile", payload))
        return result16.SetChargingProfile(status="Accepted")


class Limited201(MoreStation201):
    @on(Action201.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result201.SetChargingProfile:
        profile = payload["charging_profile"]
        [schedule] = profile["charging_schedule"]
        [period] = schedule["charging_schedule_period"]
        received.append((self.id, float(period["limit"]), profile["transaction_id"]))
        self.received.append(("SetChargingProfile", payload))
        return result201.SetChargingProfile(status="Accepted")


def in_force(running: dict[str, str]) -> dict[str, float]:
    """Each station's limit after every message so far, for its running transaction."""
    limits: dict[str, float] = {}
    for identity, limit, transaction_id in received:
        if running.get(identity) == transaction_id:
            limits[identity] = limit
    return limits


def never_over(running_at: list[tuple[int, dict[str, str]]]) -> None:
    """After every message, the limits of the transactions running then add up to at most
    the grid capacity."""
    for count in range(1, len(received) + 1):
        running = [state for seen, state in running_at if seen <= count][-1]
        limits: dict[str, float] = {}
        for identity, limit, transaction_id in received[:count]:
            if running.get(identity) == transaction_id:
                limits[identity] = limit
        assert sum(limits.values()) <= CAPACITY, (received[:count], running)


async def test_a_sites_capacity_is_shared_and_never_exceeded(
    live_server, organization, register, connect_charger, api_key
):
    received.clear()
    admin = await api_key(role="admin")
    [site] = await Site.insert(
        Site(organization=organization, name="Depot", grid_capacity_a=CAPACITY)
    ).returning(Site.id)
    for identity in ("CP-LB-16", "CP-LB-201"):
        await register(identity)
    await ChargingStation.update(
        {ChargingStation.site: site["id"], ChargingStation.free_vend: True}
    ).where(ChargingStation.identity.is_in(["CP-LB-16", "CP-LB-201"]))
    running: dict[str, str] = {}
    history: list[tuple[int, dict[str, str]]] = [(0, {})]

    def now_running(**changes: str | None) -> None:
        for identity, transaction_id in changes.items():
            name = identity.replace("_", "-")
            if transaction_id is None:
                running.pop(name, None)
            else:
                running[name] = transaction_id
        history.append((len(received), dict(running)))

    async def settled(expected: dict[str, float]) -> bool:
        return in_force(running) == expected

    async with (
        connect_charger("CP-LB-16", client_class=Limited16) as old,
        connect_charger("CP-LB-201", "ocpp2.0.1", client_class=Limited201) as new,
    ):
        await booted(old, "ocpp1.6")
        await booted(new, "ocpp2.0.1")
        started = await old.call(
            call16.StartTransaction(connector_id=1, id_tag="DRIVER-1", meter_start=0, timestamp=NOW)
        )
        tx16 = str(started.transaction_id)
        now_running(CP_LB_16=tx16)
        # Alone at the site: all of it (its connector could take 32 A).
        assert await eventually(lambda: settled({"CP-LB-16": 20.0}))

        await new.call(
            transaction_event(
                "Started",
                0,
                NOW,
                trigger_reason="Authorized",
                id_token={"idToken": "DRIVER-2", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
                info={"transactionId": "tx-lb", "chargingState": "Charging"},
            )
        )
        now_running(CP_LB_201="tx-lb")
        assert await eventually(lambda: settled({"CP-LB-16": 10.0, "CP-LB-201": 10.0}))
        # The first one was lowered before the second one was raised.
        assert received[-2:] == [("CP-LB-16", 10.0, tx16), ("CP-LB-201", 10.0, "tx-lb")]

        # The grid operator asks for 10 A: not enough for two minimums of 6 A, so the EV that
        # came last is paused and the first one keeps its 10 A.
        window = {
            "siteId": (
                await graphql(live_server, "{ sites { edges { node { id } } } }", None, admin)
            )["data"]["sites"]["edges"][0]["node"]["id"],
            "startsAt": datetime.now(UTC).isoformat(),
            "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "limitA": "10",
        }
        created = await graphql(
            live_server,
            """mutation ($input: DemandResponseEventInput!) {
              createDemandResponseEvent(input: $input) {
                ... on DemandResponseEventSaved { event { id } } } }""",
            {"input": window},
            admin,
        )
        event_id = created["data"]["createDemandResponseEvent"]["event"]["id"]
        assert await eventually(lambda: settled({"CP-LB-16": 10.0, "CP-LB-201": 0.0}))

        await old.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id, meter_stop=1000, timestamp=NOW
            )
        )
        now_running(CP_LB_16=None)
        assert await eventually(lambda: settled({"CP-LB-201": 10.0}))

        await graphql(
            live_server,
            "mutation ($id: ID!) { cancelDemandResponseEvent(id: $id) { __typename } }",
            {"id": event_id},
            admin,
        )
        assert await eventually(lambda: settled({"CP-LB-201": 20.0}))

    never_over(history)
    profile = next(payload for action, payload in new.received if action == "SetChargingProfile")
    assert profile["evse_id"] == 1
    sent = profile["charging_profile"]
    assert sent["id"] == SITE_PROFILE_ID_BASE + 1
    assert sent["stack_level"] == SITE_LIMIT_STACK_LEVEL
    assert (sent["charging_profile_purpose"], sent["charging_profile_kind"]) == (
        "TxProfile",
        "Relative",
    )
    assert sent["charging_schedule"][0]["charging_rate_unit"] == "A"
    kept = await ChargingProfile.select(ChargingProfile.source).where(
        ChargingProfile.status == "active"
    )
    assert {row["source"] for row in kept} == {"site_limit"}
    assert Decimal(str(received[-1][1])) == Decimal(CAPACITY)
