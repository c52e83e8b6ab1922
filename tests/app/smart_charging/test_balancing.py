"""Site load balancing against real stations of both OCPP versions: the limits in force,
computed from what each station received as a station would apply them, stay within the
site's grid capacity as sessions start and stop and a demand response event comes and goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.smart_charging.balancing import SITE_LIMIT_STACK_LEVEL, SITE_PROFILE_ID_BASE
from db.tables import Alert, ChargingProfile, ChargingStation, Site
from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_more import alerts
from tests.ocpp_server.test_healing_offline import eventually
from tests.ocpp_server.test_more_commands import MoreStation16, MoreStation201
from tests.ocpp_server.test_v201 import transaction_event

CAPACITY = 20
NOW = "2026-12-01T10:00:00Z"
# The limits both stations received, in the order they received them: (identity, limit,
# transaction), DEFAULT for a default limit (TxDefaultProfile: every session without its own).
received: list[tuple[str, float, str]] = []
DEFAULT = "default"


def keep(identity: str, purpose: str, limit: Any, transaction_id: Any) -> None:
    owner = DEFAULT if purpose == "TxDefaultProfile" else str(transaction_id)
    received.append((identity, float(limit), owner))


def defaults() -> dict[str, float]:
    """Each station's default limit, as last received."""
    return {identity: limit for identity, limit, owner in received if owner == DEFAULT}


class Limited16(MoreStation16):
    @on(Action16.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        profile = payload["cs_charging_profiles"]
        [period] = profile["charging_schedule"]["charging_schedule_period"]
        purpose = profile["charging_profile_purpose"]
        keep(self.id, purpose, period["limit"], profile.get("transaction_id"))
        self.received.append(("SetChargingProfile", payload))
        return result16.SetChargingProfile(status="Accepted")


class Limited201(MoreStation201):
    @on(Action201.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result201.SetChargingProfile:
        profile = payload["charging_profile"]
        [schedule] = profile["charging_schedule"]
        [period] = schedule["charging_schedule_period"]
        purpose = profile["charging_profile_purpose"]
        keep(self.id, purpose, period["limit"], profile.get("transaction_id"))
        self.received.append(("SetChargingProfile", payload))
        return result201.SetChargingProfile(status="Accepted")


async def soon(check: Any) -> Any:
    """A round every 0.5 s, and each station's answer: well within this on a busy machine."""
    return await eventually(check, timeout_s=20)


def in_force(running: dict[str, str], count: int | None = None) -> dict[str, float]:
    """The limit each running transaction is held to after the first `count` messages, as its
    station applies them: its own, else its station's default (none: unlimited)."""
    own: dict[str, float] = {}
    fallback: dict[str, float] = {}
    for identity, limit, owner in received[:count]:
        if owner == DEFAULT:
            fallback[identity] = limit
        elif running.get(identity) == owner:
            own[identity] = limit
    return {
        identity: own.get(identity, fallback.get(identity, float("inf"))) for identity in running
    }


def never_over(running_at: list[tuple[int, dict[str, str]]]) -> None:
    """After every message, the limits of the transactions running then add up to at most
    the grid capacity."""
    for count in range(1, len(received) + 1):
        running = [state for seen, state in running_at if seen <= count][-1]
        assert sum(in_force(running, count).values()) <= CAPACITY, (received[:count], running)


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

        # With no session, each idle EVSE is kept an even share of the site: 20 A over two.
        async def fallback(expected: float) -> bool:
            return defaults() == {"CP-LB-16": expected, "CP-LB-201": expected}

        assert await soon(lambda: fallback(10.0))
        started = await old.call(
            call16.StartTransaction(connector_id=1, id_tag="DRIVER-1", meter_start=0, timestamp=NOW)
        )
        tx16 = str(started.transaction_id)
        now_running(CP_LB_16=tx16)
        # Alone at the site: all of it (its connector could take 32 A), which leaves nothing
        # for a session that starts at the other station before the next round.
        assert await soon(lambda: settled({"CP-LB-16": 20.0}))
        assert await soon(lambda: fallback(0.0))

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
        assert await soon(lambda: settled({"CP-LB-16": 10.0, "CP-LB-201": 10.0}))
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
        assert await soon(lambda: settled({"CP-LB-16": 10.0, "CP-LB-201": 0.0}))

        await old.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id, meter_stop=1000, timestamp=NOW
            )
        )
        now_running(CP_LB_16=None)
        assert await soon(lambda: settled({"CP-LB-201": 10.0}))

        await graphql(
            live_server,
            "mutation ($id: ID!) { cancelDemandResponseEvent(id: $id) { __typename } }",
            {"id": event_id},
            admin,
        )
        assert await soon(lambda: settled({"CP-LB-201": 20.0}))

        await new.call(
            transaction_event(
                "Ended",
                1,
                NOW,
                trigger_reason="EVDeparted",
                info={"transactionId": "tx-lb", "stoppedReason": "EVDisconnected"},
            )
        )
        now_running(CP_LB_201=None)
        assert await soon(lambda: fallback(10.0))

    never_over(history)
    sent_201 = [payload for action, payload in new.received if action == "SetChargingProfile"]
    default = next(
        each
        for each in sent_201
        if each["charging_profile"]["charging_profile_purpose"] == "TxDefaultProfile"
    )
    assert default["evse_id"] == 0
    assert default["charging_profile"]["id"] == SITE_PROFILE_ID_BASE
    profile = next(
        each
        for each in sent_201
        if each["charging_profile"]["charging_profile_purpose"] == "TxProfile"
    )
    assert profile["evse_id"] == 1
    sent = profile["charging_profile"]
    assert sent["id"] == SITE_PROFILE_ID_BASE + 1
    assert sent["stack_level"] == SITE_LIMIT_STACK_LEVEL
    assert (sent["charging_profile_purpose"], sent["charging_profile_kind"]) == (
        "TxProfile",
        "Relative",
    )
    assert sent["charging_schedule"][0]["charging_rate_unit"] == "A"
    # Kept as the stations hold them: both transactions ended, with their limits.
    kept = await ChargingProfile.select(
        ChargingProfile.source, ChargingProfile.purpose, ChargingProfile.status
    ).where(ChargingProfile.status.is_in(["active", "ended"]))
    assert {(row["source"], row["purpose"], row["status"]) for row in kept} == {
        ("site_limit", "TxProfile", "ended"),
        ("site_limit", "TxDefaultProfile", "active"),
    }


class Refusing16(MoreStation16):
    """Takes a default limit, refuses its transactions' limits."""

    @on(Action16.set_charging_profile)
    def set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        purpose = payload["cs_charging_profiles"]["charging_profile_purpose"]
        self.received.append((purpose, payload))
        return result16.SetChargingProfile(
            status="Rejected" if purpose == "TxProfile" else "Accepted"
        )


async def test_a_station_that_refuses_its_limit_alerts_and_is_counted_at_its_maximum(
    live_server, organization, register, connect_charger
):
    received.clear()
    [site] = await Site.insert(
        Site(organization=organization, name="Yard", grid_capacity_a=40)
    ).returning(Site.id)
    for identity in ("CP-LB-NO", "CP-LB-OK"):
        await register(identity)
    await ChargingStation.update(
        {ChargingStation.site: site["id"], ChargingStation.free_vend: True}
    ).where(ChargingStation.identity.is_in(["CP-LB-NO", "CP-LB-OK"]))
    async with (
        connect_charger("CP-LB-NO", client_class=Refusing16) as refusing,
        connect_charger("CP-LB-OK", client_class=Limited16) as willing,
    ):
        for station in (refusing, willing):
            await booted(station, "ocpp1.6")
        # Its own time: the refusal is remembered for this session only.
        at = datetime.now(UTC).isoformat()
        await refusing.call(
            call16.StartTransaction(connector_id=1, id_tag="DRIVER-1", meter_start=0, timestamp=at)
        )

        async def refused() -> bool:
            return any(purpose == "TxProfile" for purpose, _ in refusing.received)

        assert await soon(refused)
        assert await soon(lambda: alerts("command_failures"))
        assert await alerts("command_failures") == ["open"]
        [message] = await Alert.select(Alert.message).where(Alert.kind == "command_failures")
        assert "refused a charging profile" in message["message"]

        started = await willing.call(
            call16.StartTransaction(connector_id=1, id_tag="DRIVER-2", meter_start=0, timestamp=NOW)
        )
        running = {"CP-LB-OK": str(started.transaction_id)}

        # The refusing station may draw its connector's 32 A: 8 A are left for the other.
        async def settled() -> bool:
            return in_force(running) == {"CP-LB-OK": 8.0}

        assert await soon(settled)


async def test_a_partners_limit_on_its_drivers_session_is_kept(
    live_server, organization, register, connect_charger
):
    """Our limit outranks the partner's on the station, so it never offers more."""
    received.clear()
    [site] = await Site.insert(
        Site(organization=organization, name="Kerb", grid_capacity_a=40)
    ).returning(Site.id)
    await register("CP-LB-ROAM")
    await ChargingStation.update(
        {ChargingStation.site: site["id"], ChargingStation.free_vend: True}
    ).where(ChargingStation.identity == "CP-LB-ROAM")
    async with connect_charger("CP-LB-ROAM", client_class=Limited16) as station:
        await booted(station, "ocpp1.6")
        started = await station.call(
            call16.StartTransaction(connector_id=1, id_tag="ROAMER", meter_start=0, timestamp=NOW)
        )
        running = {"CP-LB-ROAM": str(started.transaction_id)}

        async def held(limit: float) -> bool:
            return in_force(running) == {"CP-LB-ROAM": limit}

        assert await soon(lambda: held(32.0))
        # What the station accepted from the partner (the OCPI chargingprofiles module).
        [row] = await ChargingStation.select(ChargingStation.id).where(
            ChargingStation.identity == "CP-LB-ROAM"
        )
        await ChargingProfile.insert(
            ChargingProfile(
                organization=organization,
                station=row["id"],
                evse_id=1,
                profile_id=4242,
                stack_level=5,
                purpose="TxProfile",
                kind="Relative",
                transaction_id=str(started.transaction_id),
                schedule={
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11040}],
                },
                source="ocpi",
                status="active",
            )
        )
        assert await soon(lambda: held(16.0))  # 11.04 kW over 3 phases at 230 V
