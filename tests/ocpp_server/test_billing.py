"""Sessions become charges: the tariff is fixed at the start, the CDR is issued once when the
session is complete, from what the station measured."""

import json
import uuid
from datetime import timedelta

import pytest
from ocpp.v16 import call as call16
from strawberry import relay

from app.billing import session_billing
from app.demo import TARIFFS
from app.tariffs.models import TariffSnapshot
from app.timeparse import utcnow
from db.tables import Cdr, ChargingSession, ChargingStation, Site, Tariff, TariffAssignment
from tests.conftest import graphql
from tests.graphql_ws import TRANSPORT_WS, graphql_ws
from tests.ocpp_server.test_v201 import register_reading, transaction_event
from tests.schema.test_subscriptions import first_event

# 0.39 EUR/kWh and 6.00 EUR/h parked after 4 h (19% VAT): from the demo data.
AC_STANDARD = TARIFFS[0]


@pytest.fixture
async def priced(organization) -> int:
    """The organization's default tariff, at a site in Berlin."""
    tariff = Tariff(organization=organization, **AC_STANDARD)
    await tariff.save()
    await TariffAssignment.insert(TariffAssignment(organization=organization, tariff=tariff.id))
    site = Site(organization=organization, name="Mitte", time_zone="Europe/Berlin")
    await site.save()
    return int(site.id)


async def in_site(register, identity: str, site_id: int) -> str:
    await register(identity)
    await ChargingStation.update({ChargingStation.site: site_id}).where(
        ChargingStation.identity == identity
    )
    return identity


def value(wh: int, at: str, context: str = "Sample.Periodic") -> dict:
    return {
        "timestamp": at,
        "sampledValue": [
            {"value": str(wh), "context": context, "measurand": "Energy.Active.Import.Register"}
        ],
    }


async def test_a_16_session_is_charged_once_with_the_tariff_it_started_under(
    priced, register, connect_charger, live_server, api_key, organization
):
    identity = await in_site(register, f"CP-BILL-{uuid.uuid4().hex[:6]}", priced)
    async with connect_charger(identity) as station:
        started = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04AA", meter_start=1000, timestamp="2026-11-23T09:00:00Z"
            )
        )
        # The tariff changes during the session: the session keeps the old price.
        await Tariff.update({Tariff.elements: TARIFFS[1]["elements"]}).where(
            Tariff.code == AC_STANDARD["code"]
        )
        stop = call16.StopTransaction(
            transaction_id=started.transaction_id,
            meter_stop=21000,
            timestamp="2026-11-23T10:00:00Z",
            reason="EVDisconnected",
            transaction_data=[value(11000, "2026-11-23T09:30:00Z")],
        )
        await station.call(stop)
        await station.call(stop)  # a resend after a lost reply
    [cdr] = await Cdr.select()
    assert cdr["total_energy_wh"] == 20000
    # 20 kWh x 0.39 = 7.80 excl. VAT; 9.282 -> 9.28 incl. 19% VAT.
    assert (cdr["total_cost_excl_vat_minor"], cdr["total_cost_incl_vat_minor"]) == (780, 928)
    assert cdr["finalized_at"] is not None
    location = json.loads(cdr["location"]) if isinstance(cdr["location"], str) else cdr["location"]
    assert location["station"] == identity
    session = await ChargingSession.select(
        ChargingSession.cost_minor, ChargingSession.currency
    ).first()
    assert session == {"cost_minor": 928, "currency": "EUR"}
    seen = await graphql(
        live_server,
        "{ sessions { edges { node { costMinor cdrs { code totalCostInclVatMinor } } } } }",
        token=await api_key(role="viewer"),
    )
    [edge] = seen["data"]["sessions"]["edges"]
    assert edge["node"]["cdrs"] == [{"code": cdr["code"], "totalCostInclVatMinor": 928}]


async def test_a_201_session_replayed_out_of_order_is_charged_when_complete(
    priced, register, connect_charger
):
    identity = await in_site(register, f"CP201-BILL-{uuid.uuid4().hex[:6]}", priced)
    async with connect_charger(identity, "ocpp2.0.1") as station:
        await station.call(
            transaction_event(
                "Started",
                0,
                "2026-11-23T09:00:00Z",
                offline=True,
                trigger_reason="Authorized",
                id_token={"idToken": "04AA", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
                meter_value=[register_reading(0, "2026-11-23T09:00:00Z", "Transaction.Begin")],
            )
        )
        await station.call(
            transaction_event(
                "Ended",
                2,
                "2026-11-23T10:00:00Z",
                offline=True,
                trigger_reason="EVDeparted",
                meter_value=[register_reading(10000, "2026-11-23T10:00:00Z", "Transaction.End")],
                info={"stoppedReason": "EVDisconnected"},
            )
        )
        assert await Cdr.count() == 0  # event 1 is still missing
        await station.call(
            transaction_event(
                "Updated",
                1,
                "2026-11-23T09:30:00Z",
                offline=True,
                meter_value=[register_reading(5000, "2026-11-23T09:30:00Z")],
            )
        )
    [cdr] = await Cdr.select()
    assert cdr["total_energy_wh"] == 10000
    assert cdr["total_cost_incl_vat_minor"] == 464  # 10 kWh x 0.39 = 3.90; 4.641 incl. VAT
    session = await ChargingSession.select(ChargingSession.energy_wh).first()
    assert session == {"energy_wh": 10000}  # the late, lower reading did not lower it


async def test_a_session_without_a_tariff_gets_a_free_cdr(register, connect_charger, organization):
    identity = f"CP-FREE-{uuid.uuid4().hex[:6]}"
    await register(identity)
    async with connect_charger(identity) as station:
        started = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04AA", meter_start=0, timestamp="2026-11-23T09:00:00Z"
            )
        )
        await station.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id,
                meter_stop=5000,
                timestamp="2026-11-23T09:30:00Z",
            )
        )
    [cdr] = await Cdr.select(Cdr.currency, Cdr.total_cost_incl_vat_minor, Cdr.total_energy_wh)
    assert cdr == {"currency": "EUR", "total_cost_incl_vat_minor": 0, "total_energy_wh": 5000}


async def test_a_running_session_shows_its_cost_so_far(
    priced, register, connect_charger, live_server, api_key
):
    identity = await in_site(register, f"CP-RUN-{uuid.uuid4().hex[:6]}", priced)
    viewer = await api_key(role="viewer")
    now = utcnow().isoformat()
    async with (
        graphql_ws(f"{live_server.ws}/graphql", TRANSPORT_WS, viewer) as feed,
        connect_charger(identity) as station,
    ):
        await feed.subscribe(
            "subscription ($i: String) { sessions(identity: $i) { phase energyWh costMinor } }",
            {"i": identity},
        )
        started = await station.call(
            call16.StartTransaction(connector_id=1, id_tag="04AA", meter_start=0, timestamp=now)
        )

        async def five_kwh() -> None:
            await station.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[value(5000, utcnow().isoformat())],
                )
            )

        event = (await first_event(feed, five_kwh))["sessions"]
        while event["phase"] != "updated":
            event = (await feed.next_data())["sessions"]
    # 5 kWh x 0.39 = 1.95 EUR; 2.3205 incl. 19% VAT.
    assert event == {"phase": "updated", "energyWh": 5000, "costMinor": 232}
    listed = await graphql(
        live_server, "{ sessions { edges { node { state costMinor currency } } } }", token=viewer
    )
    assert listed["data"]["sessions"]["edges"] == [
        {"node": {"state": "ACTIVE", "costMinor": 232, "currency": "EUR"}}
    ]


async def test_a_session_left_without_its_cdr_is_billed_by_reconciliation(
    priced, register, organization, unit_of_work
):
    station = await register(f"CP-LATE-{uuid.uuid4().hex[:6]}")
    ended = utcnow() - timedelta(minutes=10)
    session = ChargingSession(
        organization=organization,
        station=station.id,
        transaction_id="lost-billing",
        state="completed",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        meter_start_wh=0,
        energy_wh=10000,
        tariff_snapshot=TariffSnapshot.from_ocpi(AC_STANDARD).to_ocpi(),
        currency="EUR",
    )
    await session.save()
    assert await session_billing.bill_unbilled(unit_of_work()) == 1
    [cdr] = await Cdr.select(Cdr.total_cost_incl_vat_minor)
    assert cdr == {"total_cost_incl_vat_minor": 464}
    assert await session_billing.bill_unbilled(unit_of_work()) == 0  # billed once


async def test_a_correction_credits_the_cdr_and_issues_a_new_one(
    priced, register, connect_charger, live_server, api_key, organization
):
    identity = await in_site(register, f"CP-FIX-{uuid.uuid4().hex[:6]}", priced)
    async with connect_charger(identity) as station:
        started = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04AA", meter_start=0, timestamp="2026-11-23T09:00:00Z"
            )
        )
        await station.call(
            call16.StopTransaction(
                transaction_id=started.transaction_id,
                meter_stop=20000,
                timestamp="2026-11-23T10:00:00Z",
            )
        )
    right = Tariff(
        organization=organization,
        code="RIGHT",
        name="Right",
        currency="EUR",
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.30", "vat": "19"}]}],
    )
    await right.save()
    [original] = await Cdr.select(Cdr.id, Cdr.code)
    correct = (
        "mutation ($cdr: ID!, $tariff: ID!) { correctCdr(cdrId: $cdr, tariffId: $tariff) {"
        " __typename ... on CdrCorrected { cdr { code totalCostInclVatMinor credit } }"
        " ... on UserError { code } } }"
    )
    ids = {
        "cdr": str(relay.GlobalID("Cdr", str(original["id"]))),
        "tariff": str(relay.GlobalID("Tariff", str(right.id))),
    }
    admin = await api_key()
    operator = await api_key(role="operator")
    refused = await graphql(live_server, correct, ids, operator)
    assert refused["data"]["correctCdr"]["__typename"] == "NotPermittedError"
    fixed = await graphql(live_server, correct, ids, admin)
    assert fixed["data"]["correctCdr"]["cdr"] == {
        "code": f"{original['code']}-R1",
        "totalCostInclVatMinor": 714,  # 20 kWh x 0.30 x 1.19
        "credit": False,
    }
    credit = await Cdr.select(Cdr.total_cost_incl_vat_minor, Cdr.credit_reference).where(
        Cdr.code == f"{original['code']}-C"
    )
    assert credit == [{"total_cost_incl_vat_minor": -928, "credit_reference": original["id"]}]
    unchanged = await Cdr.select(Cdr.total_cost_incl_vat_minor).where(Cdr.id == original["id"])
    assert unchanged == [{"total_cost_incl_vat_minor": 928}]  # a final CDR is never changed
    again = await graphql(live_server, correct, ids, admin)
    assert again["data"]["correctCdr"]["code"] == "invalid_input"
    session = await ChargingSession.select(ChargingSession.cost_minor).first()
    assert session == {"cost_minor": 714}


async def test_a_201_station_is_told_the_running_and_the_final_cost(
    priced, register, connect_charger
):
    identity = await in_site(register, f"CP201-COST-{uuid.uuid4().hex[:6]}", priced)
    now = utcnow()
    at = [(now + timedelta(minutes=minutes)).isoformat() for minutes in (0, 15, 30)]
    async with connect_charger(identity, "ocpp2.0.1") as station:
        started = await station.call(
            transaction_event(
                "Started",
                0,
                at[0],
                trigger_reason="Authorized",
                id_token={"idToken": "04AA", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
                meter_value=[register_reading(0, at[0], "Transaction.Begin")],
            )
        )
        running = await station.call(
            transaction_event("Updated", 1, at[1], meter_value=[register_reading(5000, at[1])])
        )
        ended = await station.call(
            transaction_event(
                "Ended",
                2,
                at[2],
                trigger_reason="EVDeparted",
                meter_value=[register_reading(10000, at[2], "Transaction.End")],
                info={"stoppedReason": "EVDisconnected"},
            )
        )
    assert started.total_cost == 0
    assert running.total_cost == 2.32  # 5 kWh x 0.39 incl. 19% VAT, so far
    assert ended.total_cost == 4.64  # the CDR's total
