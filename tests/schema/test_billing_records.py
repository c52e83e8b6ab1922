"""CDRs and payments through the API: staff read them all, a driver only their own."""

from strawberry import relay

from app.timeparse import utcnow
from db.tables import Cdr, ChargingSession, Payment
from tests.conftest import graphql
from tests.schema.test_operations import driver_token

RECORDS = """
{
  cdrs { edges { node { code totalCostInclVatMinor session { transactionId } } } }
  payments { edges { node { providerPaymentId capturedMinor cdr { code } user { email } } } }
}
"""


async def _charged(organization: int, station_id: int, user_id: int, name: str) -> int:
    session = ChargingSession(
        organization=organization,
        station=station_id,
        transaction_id=f"TX-{name}",
        user=user_id,
        started_at=utcnow(),
    )
    await session.save()
    cdr = Cdr(
        organization=organization,
        session=session.id,
        code=f"CDR-{name}",
        currency="EUR",
        started_at=utcnow(),
        ended_at=utcnow(),
        total_cost_incl_vat_minor=1234,
    )
    await cdr.save()
    payment = Payment(
        organization=organization,
        session=session.id,
        cdr=cdr.id,
        user=user_id,
        provider_payment_id=f"pi_{name}",
        currency="EUR",
        captured_minor=1234,
    )
    await payment.save()
    return int(cdr.id)


async def test_a_driver_reads_only_their_own_cdrs_and_payments(
    live_server, organization, register, api_key, unit_of_work
):
    station = await register("CP-BILL")
    anna, anna_id = await driver_token(live_server, unit_of_work, "anna@example.com")
    _, ben_id = await driver_token(live_server, unit_of_work, "ben@example.com")
    await _charged(organization, station.id, anna_id, "anna")
    bens_cdr = await _charged(organization, station.id, ben_id, "ben")

    hers = (await graphql(live_server, RECORDS, token=anna))["data"]
    assert [edge["node"] for edge in hers["cdrs"]["edges"]] == [
        {"code": "CDR-anna", "totalCostInclVatMinor": 1234, "session": {"transactionId": "TX-anna"}}
    ]
    assert [edge["node"] for edge in hers["payments"]["edges"]] == [
        {
            "providerPaymentId": "pi_anna",
            "capturedMinor": 1234,
            "cdr": {"code": "CDR-anna"},
            "user": {"email": "anna@example.com"},
        }
    ]
    his = str(relay.GlobalID("Cdr", str(bens_cdr)))
    lookup = await graphql(
        live_server, "query ($id: ID!) { node(id: $id) { id } }", {"id": his}, anna
    )
    assert lookup == {"data": {"node": None}}

    staff = (await graphql(live_server, RECORDS, token=await api_key(role="viewer")))["data"]
    assert sorted(edge["node"]["code"] for edge in staff["cdrs"]["edges"]) == [
        "CDR-anna",
        "CDR-ben",
    ]
    assert len(staff["payments"]["edges"]) == 2
