"""Paying by card against localstripe: the hold before the start, the capture of the CDR's
total through the outbox, refunds, and Stripe's webhooks (signed, applied once)."""

import asyncio
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe
from ocpp.v16 import call as call16
from strawberry import relay

from app.billing import payments
from app.timeparse import utcnow
from db.tables import (
    Alert,
    Cdr,
    ChargingSession,
    ChargingStation,
    IdToken,
    OutboxMessage,
    Payment,
    Site,
    Tariff,
    TariffAssignment,
    WebhookEvent,
)
from tests.conftest import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, graphql, serving
from tests.ocpp_server.test_billing import AC_STANDARD, value
from tests.ocpp_server.test_commands import Station16, booted
from tests.schema.test_operations import RefusingStation, driver_token
from tests.schema.test_tariffs import connectors_of

START = """
mutation ($connector: ID!, $card: String!) {
  startAdHocCharging(connectorId: $connector, paymentMethodId: $card) {
    __typename
    ... on AdHocStarted { payment { id status authorizedMinor currency } }
    ... on UserError { code message }
  }
}
"""
PAYMENT = """
query ($id: ID!) { node(id: $id) { ... on Payment {
  status authorizedMinor capturedMinor refundedMinor providerPaymentId receiptHtml
  cdr { totalCostInclVatMinor }
} } }
"""
GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"


@pytest.fixture
def stripe_client(localstripe: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        STRIPE_KEY, base_addresses={"api": localstripe}, http_client=stripe.HTTPXClient()
    )


@pytest.fixture(scope="session")
async def webhooks(live_server, localstripe: str) -> None:
    """localstripe delivers its events to our real endpoint."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{localstripe}/_config/webhooks/cpms",
            data={"url": f"{live_server.http}/webhooks/stripe", "secret": STRIPE_WEBHOOK_SECRET},
        )
    assert response.status_code == 200


async def card(client: stripe.StripeClient, number: str) -> str:
    method = await client.v1.payment_methods.create_async(
        {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return str(method.id)


@pytest.fixture
async def connector(organization, register) -> str:
    """A priced connector at a Berlin site: 0.39 EUR/kWh incl. 19% VAT."""
    tariff = Tariff(organization=organization, **AC_STANDARD)
    await tariff.save()
    await TariffAssignment.insert(TariffAssignment(organization=organization, tariff=tariff.id))
    site = Site(organization=organization, name="Mitte", time_zone="Europe/Berlin")
    await site.save()
    station = await register("CP-PAY")
    await ChargingStation.update({ChargingStation.site: site.id}).where(
        ChargingStation.id == station.id
    )
    [connector_id] = await connectors_of(station.id, 1)
    return connector_id


async def until(check, timeout_s: float = 10.0) -> Any:
    """Wait for what a background worker or a webhook does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    pytest.fail("it did not happen in time")


async def payment_row(payment_id: str) -> dict:
    row = (
        await Payment.select()
        .where(Payment.id == int(relay.GlobalID.from_id(payment_id).node_id))
        .first()
    )
    assert row is not None
    return row


def signed(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET) -> dict[str, str]:
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}


async def test_an_ad_hoc_driver_pays_exactly_what_the_session_cost(
    live_server, webhooks, connector, connect_charger, stripe_client, unit_of_work
):
    token, _ = await driver_token(live_server, unit_of_work, "adhoc@example.com")
    async with connect_charger("CP-PAY", client_class=Station16) as station:
        await booted(station, "ocpp1.6")
        started = await graphql(
            live_server,
            START,
            {"connector": connector, "card": await card(stripe_client, GOOD_CARD)},
            token,
        )
        result = started["data"]["startAdHocCharging"]
        assert result["__typename"] == "AdHocStarted", result
        assert result["payment"] == {
            "id": result["payment"]["id"],
            "status": "AUTHORIZED",
            "authorizedMinor": 5000,
            "currency": "EUR",
        }
        [(action, request)] = station.received
        assert action == "RemoteStartTransaction"
        one_off = request["id_tag"]
        transaction = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag=one_off, meter_start=0, timestamp="2026-11-23T09:00:00Z"
            )
        )
        assert transaction.id_tag_info["status"] == "Accepted"
        await station.call(
            call16.StopTransaction(
                transaction_id=transaction.transaction_id,
                meter_stop=20000,
                timestamp="2026-11-23T10:00:00Z",
                transaction_data=[value(10000, "2026-11-23T09:30:00Z")],
            )
        )
    payment_id = result["payment"]["id"]

    async def captured() -> dict | None:
        row = await payment_row(payment_id)
        return row if row["status"] == "captured" else None

    row = await until(captured)
    assert row["captured_minor"] == 928  # 20 kWh x 0.39 x 1.19; the rest of 50.00 released
    intent = await stripe_client.v1.payment_intents.retrieve_async(row["provider_payment_id"])
    charge = intent.to_dict()["latest_charge"]  # localstripe sends the charge itself
    assert charge["amount"] - charge["amount_refunded"] == 928  # the rest went back
    shown = await graphql(live_server, PAYMENT, {"id": payment_id}, token)
    assert shown["data"]["node"]["cdr"] == {"totalCostInclVatMinor": 928}
    receipt = shown["data"]["node"]["receiptHtml"]
    for text in ("Acme Charging", "Mitte", "20.000 kWh", "7.80 EUR", "1.48 EUR", "9.28 EUR"):
        assert text in receipt, text
    assert "2026-11-23 10:00 CET" in receipt  # the site's local time

    # Stripe tells us too (payment_intent.succeeded): stored once, however often it comes.
    stored = await until(lambda: WebhookEvent.select().first())
    payload = json.dumps(
        stored["payload"] if isinstance(stored["payload"], dict) else json.loads(stored["payload"])
    ).encode()
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        again = await client.post("/webhooks/stripe", content=payload, headers=signed(payload))
    assert again.json() == {"received": True, "duplicate": True}
    assert await WebhookEvent.count() == 1


async def test_a_declined_card_starts_nothing_and_keeps_no_hold(
    live_server, connector, connect_charger, stripe_client, api_key
):
    operator = await api_key(role="operator")
    async with connect_charger("CP-PAY", client_class=Station16) as station:
        await booted(station, "ocpp1.6")
        result = await graphql(
            live_server,
            START,
            {"connector": connector, "card": await card(stripe_client, DECLINED_CARD)},
            operator,
        )
        assert station.received == []
    assert result["data"]["startAdHocCharging"]["__typename"] == "PaymentDeclinedError"
    assert [row["status"] for row in await Payment.select(Payment.status)] == ["declined"]


async def test_a_start_the_station_refuses_gives_the_hold_back(
    live_server, connector, connect_charger, stripe_client, api_key
):
    from ocpp.routing import on
    from ocpp.v16 import call_result
    from ocpp.v16.enums import Action

    class Unwilling(RefusingStation):
        @on(Action.remote_start_transaction)
        def remote_start(self, **payload: Any) -> call_result.RemoteStartTransaction:
            return call_result.RemoteStartTransaction(status="Rejected")

    operator = await api_key(role="operator")
    async with connect_charger("CP-PAY", client_class=Unwilling) as station:
        await booted(station, "ocpp1.6")
        result = await graphql(
            live_server,
            START,
            {"connector": connector, "card": await card(stripe_client, GOOD_CARD)},
            operator,
        )
    refused = result["data"]["startAdHocCharging"]
    assert refused["__typename"] == "RejectedByStationError"

    async def released() -> dict | None:
        row = await Payment.select().first()
        return row if row and row["status"] == "released" else None

    row = await until(released)
    intent = await stripe_client.v1.payment_intents.retrieve_async(row["provider_payment_id"])
    assert intent.status == "canceled"


async def test_a_capture_left_by_a_stopped_server_is_done_by_the_next(
    live_server, served_settings, connector, connect_charger, stripe_client, api_key
):
    operator = await api_key(role="operator")
    worker = live_server.app.state.outbox
    async with connect_charger("CP-PAY", client_class=Station16) as station:
        await booted(station, "ocpp1.6")
        result = await graphql(
            live_server,
            START,
            {"connector": connector, "card": await card(stripe_client, GOOD_CARD)},
            operator,
        )
        [(_, request)] = station.received
        await worker.stop()  # this node "dies" before it captures
        try:
            transaction = await station.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag=request["id_tag"],
                    meter_start=0,
                    timestamp="2026-11-23T09:00:00Z",
                )
            )
            await station.call(
                call16.StopTransaction(
                    transaction_id=transaction.transaction_id,
                    meter_stop=10000,
                    timestamp="2026-11-23T09:30:00Z",
                )
            )
            assert await OutboxMessage.count().where(OutboxMessage.status == "pending") >= 1
            payment_id = result["data"]["startAdHocCharging"]["payment"]["id"]
            assert (await payment_row(payment_id))["status"] == "authorized"
            async with serving(served_settings):  # another node takes the work over

                async def captured() -> dict | None:
                    row = await payment_row(payment_id)
                    return row if row["status"] == "captured" else None

                row = await until(captured)
        finally:
            await worker.start()
    assert row["captured_minor"] == 464


async def test_refunds_and_webhooks_that_arrive_out_of_order_or_unsigned(
    live_server, organization, stripe_client, api_key
):
    method = await card(stripe_client, GOOD_CARD)
    intent = await stripe_client.v1.payment_intents.create_async(
        {"amount": 1500, "currency": "eur", "payment_method": method, "confirm": True}
    )
    payment = Payment(
        organization=organization,
        provider_payment_id=intent.id,
        currency="EUR",
        status="captured",
        authorized_minor=1500,
        captured_minor=1500,
    )
    await payment.save()
    payment_id = str(relay.GlobalID("Payment", str(payment.id)))
    operator = await api_key(role="operator")
    refund = (
        "mutation ($id: ID!, $amount: Int) {"
        " refundPayment(paymentId: $id, amountMinor: $amount) { __typename"
        " ... on PaymentSaved { payment { refundedMinor } } ... on UserError { code } } }"
    )
    partial = await graphql(live_server, refund, {"id": payment_id, "amount": 500}, operator)
    assert partial["data"]["refundPayment"] == {
        "__typename": "PaymentSaved",
        "payment": {"refundedMinor": 500},
    }
    too_much = await graphql(live_server, refund, {"id": payment_id, "amount": 1001}, operator)
    assert too_much["data"]["refundPayment"]["code"] == "invalid_input"
    viewer = await graphql(live_server, refund, {"id": payment_id}, await api_key(role="viewer"))
    assert viewer["data"]["refundPayment"]["__typename"] == "NotPermittedError"

    # An older event arriving after a newer one does not move the status back.
    late = {
        "id": "evt_late",
        "type": "payment_intent.amount_capturable_updated",
        "data": {"object": {"id": intent.id, "status": "requires_capture"}},
    }
    body = json.dumps(late).encode()
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        forged = await client.post(
            "/webhooks/stripe", content=body, headers=signed(body, "whsec_someone_else")
        )
        accepted = await client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert forged.status_code == 400
    assert accepted.status_code == 200
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_late") == 1
    assert (await Payment.select(Payment.status).first()) == {"status": "captured"}


async def test_without_a_stripe_key_payments_say_so_and_the_rest_works(
    settings, database, organization, connector, api_key
):
    async with serving(settings) as plain:  # no CPMS_STRIPE_SECRET_KEY
        result = await graphql(
            plain, START, {"connector": connector, "card": "pm_x"}, await api_key(role="operator")
        )
        stations = await graphql(
            plain, "{ stations { edges { node { identity } } } }", token=await api_key()
        )
    assert result["data"]["startAdHocCharging"]["__typename"] == "PaymentsDisabledError"
    assert stations["data"]["stations"]["edges"] == [{"node": {"identity": "CP-PAY"}}]
    assert await Payment.count() == 0


SAVE_CARD = """
mutation ($card: String!) { savePaymentMethod(paymentMethodId: $card) {
  __typename ... on UserError { code message } } }
"""


@pytest.mark.parametrize(
    ("number", "status"), [(GOOD_CARD, "captured"), (DECLINED_CARD, "declined")]
)
async def test_a_registered_driver_is_charged_on_their_saved_card(
    live_server,
    connector,
    connect_charger,
    stripe_client,
    unit_of_work,
    organization,
    number,
    status,
):
    token, user_id = await driver_token(live_server, unit_of_work, "saved@example.com")
    saved = await graphql(
        live_server, SAVE_CARD, {"card": await card(stripe_client, number)}, token
    )
    assert saved["data"]["savePaymentMethod"]["__typename"] == "CardSaved"
    await IdToken.insert(IdToken(organization=organization, uid="04SAVED", user=user_id))
    async with connect_charger("CP-PAY") as station:
        transaction = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04SAVED", meter_start=0, timestamp="2026-11-23T09:00:00Z"
            )
        )
        await station.call(
            call16.StopTransaction(
                transaction_id=transaction.transaction_id,
                meter_stop=10000,
                timestamp="2026-11-23T09:30:00Z",
            )
        )

    async def settled() -> dict | None:
        row = await Payment.select().first()
        return row if row and row["status"] in ("captured", "declined") else None

    row = await until(settled)
    assert (row["kind"], row["status"], row["user"]) == ("off_session", status, user_id)
    if status == "captured":
        assert row["captured_minor"] == 464


async def a_finished_session(
    organization: int, station_id: int, transaction_id: str, hours_ago: float = 0
) -> ChargingSession:
    """An hour-long session that ended `hours_ago`."""
    ended = utcnow() - timedelta(hours=hours_ago)
    session = ChargingSession(
        organization=organization,
        station=station_id,
        transaction_id=transaction_id,
        state="completed",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
    )
    await session.save()
    return session


async def test_a_payment_left_open_raises_an_alert_until_it_settles(
    live_server, organization, register, unit_of_work
):
    station = await register("CP-OPEN")
    session = await a_finished_session(organization, station.id, "open-payment", hours_ago=2)
    payment = Payment(
        organization=organization,
        session=session.id,
        provider_payment_id="pi_open",
        currency="EUR",
        status="authorized",
        authorized_minor=5000,
    )
    await payment.save()
    assert [p.id for p in await payments.flag_unsettled(unit_of_work())] == [payment.id]
    await payments.flag_unsettled(unit_of_work())  # the next round opens no second alert
    assert await Alert.select(Alert.kind, Alert.status) == [
        {"kind": "payment_not_settled", "status": "open"}
    ]
    body = json.dumps(
        {
            "id": "evt_settled",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_open", "status": "succeeded", "amount_received": 700}},
        }
    ).encode()
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        await client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert await Alert.select(Alert.status) == [{"status": "resolved"}]
    assert (await Payment.select(Payment.captured_minor).first()) == {"captured_minor": 700}


def intent_event(event_id: str, intent_id: str, status: str, received: int = 0) -> bytes:
    intent = {"id": intent_id, "status": status, "amount_received": received}
    return json.dumps(
        {"id": event_id, "type": f"payment_intent.{status}", "data": {"object": intent}}
    ).encode()


async def deliver(server, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http) as client:
        return await client.post("/webhooks/stripe", content=body, headers=headers or signed(body))


async def a_hold(organization: int, intent_id: str, authorized: int = 5000) -> int:
    payment = Payment(
        organization=organization,
        provider_payment_id=intent_id,
        kind="preauth",
        currency="EUR",
        status="authorized",
        authorized_minor=authorized,
    )
    await payment.save()
    return int(payment.id)


async def the_payment(payment_id: int) -> dict[str, Any]:
    row = await (
        Payment.select(Payment.status, Payment.captured_minor).where(Payment.id == payment_id)
    ).first()
    assert row is not None
    return row


async def test_webhook_events_move_money_neither_backwards_nor_beyond_the_hold(
    live_server, organization
):
    payment_id = await a_hold(organization, "pi_hold")
    assert (
        await deliver(live_server, intent_event("evt_1", "pi_hold", "succeeded", 999_999))
    ).is_success
    assert await the_payment(payment_id) == {"status": "authorized", "captured_minor": 0}
    conflicts = Alert.select(Alert.status).where(Alert.kind == "payment_conflict")
    assert await conflicts == [{"status": "open"}]

    await deliver(live_server, intent_event("evt_2", "pi_hold", "succeeded", 4_000))
    assert await the_payment(payment_id) == {"status": "captured", "captured_minor": 4_000}
    await deliver(live_server, intent_event("evt_3", "pi_hold", "canceled"))
    await deliver(live_server, intent_event("evt_4", "pi_hold", "succeeded", 777))
    assert await the_payment(payment_id) == {"status": "captured", "captured_minor": 4_000}
    await deliver(live_server, intent_event("evt_5", "pi_hold", "succeeded", 4_000))  # the same
    assert await the_payment(payment_id) == {"status": "captured", "captured_minor": 4_000}
    assert await conflicts == [{"status": "open"}]  # one alert per payment while open
    ours = [f"evt_{n}" for n in range(1, 6)]
    assert await WebhookEvent.count().where(WebhookEvent.event_id.is_in(ours)) == 5


async def test_an_event_whose_application_failed_is_applied_when_redelivered(
    live_server, organization, monkeypatch
):
    payment_id = await a_hold(organization, "pi_retry")
    real_update = payments.repository.update_payment
    failures = [RuntimeError("the database went away mid-way")]

    async def update_once_failing(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await real_update(*args, **kwargs)

    monkeypatch.setattr(payments.repository, "update_payment", update_once_failing)
    body = intent_event("evt_retry", "pi_retry", "succeeded", 5_000)
    first = await deliver(live_server, body)
    assert first.status_code == 500  # Stripe delivers it again later
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_retry") == 0
    again = await deliver(live_server, body)
    assert again.json() == {"received": True, "duplicate": False}
    assert await the_payment(payment_id) == {"status": "captured", "captured_minor": 5_000}


async def test_concurrent_deliveries_of_one_event_apply_it_once(live_server, organization):
    payment_id = await a_hold(organization, "pi_twice")
    body = intent_event("evt_twice", "pi_twice", "succeeded", 3_000)
    replies = await asyncio.gather(*(deliver(live_server, body) for _ in range(5)))
    assert [reply.status_code for reply in replies] == [200] * 5
    assert sorted(reply.json()["duplicate"] for reply in replies) == [False] + [True] * 4
    assert await the_payment(payment_id) == {"status": "captured", "captured_minor": 3_000}


@pytest.mark.parametrize("offset_s", [3_600, -3_600])
async def test_a_signature_dated_far_from_now_is_refused(live_server, organization, offset_s):
    await a_hold(organization, "pi_dated")
    body = intent_event("evt_dated", "pi_dated", "succeeded", 100)
    stamp = int(time.time()) + offset_s
    digest = hmac.new(
        STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    headers = {"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}
    reply = await deliver(live_server, body, headers)
    assert reply.status_code == 400
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_dated") == 0


async def test_a_signed_event_without_an_id_is_refused_cleanly(live_server, organization):
    body = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {}}}).encode()
    reply = await deliver(live_server, body)
    assert reply.status_code == 400


async def test_a_provider_network_error_reaches_the_driver_without_its_details():
    from app.billing.provider import ProviderUnavailable, StripeProvider
    from tests.conftest import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    provider = StripeProvider(STRIPE_KEY, None, nowhere)
    with pytest.raises(ProviderUnavailable) as failed:
        await provider.authorize(500, "EUR", "pm_card_visa", "cpms-test-unreachable")
    assert "127.0.0.1" not in failed.value.message
    assert "refused" not in failed.value.message.lower()
    assert failed.value.message == "the payment provider cannot be reached: try again later"


async def test_two_different_events_for_one_payment_at_once_take_turns(
    live_server, organization, monkeypatch
):
    """A cancellation and a capture reported at the same moment: the one applied second reads
    the first's final status (the row is locked while an event decides from it) and raises a
    conflict, instead of both deciding from "authorized" and the last write winning."""
    payment_id = await a_hold(organization, "pi_both")
    real_read = payments.repository.payment_by_provider_id

    async def read_then_dawdle(*args: Any, **kwargs: Any) -> Any:
        found = await real_read(*args, **kwargs)
        await asyncio.sleep(0.3)  # both deliveries have read before either writes
        return found

    monkeypatch.setattr(payments.repository, "payment_by_provider_id", read_then_dawdle)
    replies = await asyncio.gather(
        deliver(live_server, intent_event("evt_cancel", "pi_both", "canceled")),
        deliver(live_server, intent_event("evt_capture", "pi_both", "succeeded", 4_000)),
    )
    assert [reply.status_code for reply in replies] == [200, 200]
    final = await the_payment(payment_id)
    assert final in (
        {"status": "released", "captured_minor": 0},
        {"status": "captured", "captured_minor": 4_000},
    )
    conflicts = Alert.select(Alert.status).where(Alert.kind == "payment_conflict")
    assert await conflicts == [{"status": "open"}]


async def test_a_saved_card_charge_never_captures_more_than_its_cdr(
    live_server, organization, register
):
    station = await register("CP-SAVED-CAP")
    session = await a_finished_session(organization, station.id, "saved-cap")
    cdr = Cdr(
        organization=organization,
        session=session.id,
        code="CDR-SAVED-CAP",
        currency="EUR",
        started_at=session.started_at,
        ended_at=session.ended_at,
        total_cost_incl_vat_minor=464,
    )
    await cdr.save()
    payment = Payment(
        organization=organization,
        session=session.id,
        cdr=cdr.id,
        provider_payment_id="pi_saved_cap",
        kind="off_session",
        currency="EUR",
        status="charging",
    )
    await payment.save()

    await deliver(live_server, intent_event("evt_over", "pi_saved_cap", "succeeded", 999_999))
    assert await the_payment(payment.id) == {"status": "charging", "captured_minor": 0}
    conflict = await Alert.select(Alert.status, Alert.message).where(
        Alert.kind == "payment_conflict"
    )
    assert [row["status"] for row in conflict] == ["open"]
    assert "999999 captured of 464 billed" in conflict[0]["message"]

    await deliver(live_server, intent_event("evt_right", "pi_saved_cap", "succeeded", 464))
    assert await the_payment(payment.id) == {"status": "captured", "captured_minor": 464}
