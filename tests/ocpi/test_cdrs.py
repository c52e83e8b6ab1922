"""The CDRs module as a sender: every CDR of a partner's token is POSTed to that partner once
(a correction as a credit CDR and a new one), held while the partner is down, and can be
pulled page by page."""

from __future__ import annotations

import csv
import io

import httpx
from ocpp.v16 import call as call16
from strawberry import relay

from app.demo import TARIFFS
from db.tables import Cdr, Tariff, TariffAssignment
from ocpi.v221.models import Cdr as OcpiCdr
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.emsp import data_of, token_header
from tests.ocpi.test_locations import add_site, available, place
from tests.ocpi.test_tokens import UID, a_token
from tests.ocpp_server.test_healing_offline import eventually

SIGNED = 'OCMF|{"FV":"1.0","RD":[{"TM":"2026-11-23T10:00:00,000+0000 S","RV":20}]}|{"SD":"3045"}'

PARTNER = """
query ($id: ID!) { node(id: $id) { ... on Partner {
  pendingDeliveries failedDeliveries lastPushAt pushFailingSince } } }
"""

CDRS = """
{ cdrs(first: 10) { edges { node { id partnerDeliveredAt partnerRefusal } } } }
"""

RESEND = """
mutation ($id: ID!) { resendCdrToPartner(cdrId: $id) {
  __typename ... on CdrResent { cdr { partnerRefusal } } ... on UserError { code } } }
"""

SETTLEMENT = """
query ($partner: ID!, $from: DateTime!, $to: DateTime!) {
  roamingSettlement(partnerId: $partner, from: $from, to: $to) {
    partner { partyId } from to
    lines { currency cdrs credits energyWh amountExclVatMinor amountInclVatMinor } } }
"""

CORRECT = """
mutation ($cdr: ID!, $tariff: ID!) { correctCdr(cdrId: $cdr, tariffId: $tariff) {
  __typename ... on UserError { code message } } }
"""


async def charge(station, meter_stop: int, day: str, *, signed: bool = False) -> None:
    """A charge with the partner's token, from 09:00 to 10:00 of `day`."""
    started = await station.call(
        call16.StartTransaction(
            connector_id=1, id_tag=UID, meter_start=0, timestamp=f"{day}T09:00:00Z"
        )
    )
    assert started.id_tag_info["status"] == "Accepted"
    reading = {"value": SIGNED, "format": "SignedData", "context": "Transaction.End"}
    await station.call(
        call16.StopTransaction(
            transaction_id=started.transaction_id,
            meter_stop=meter_stop,
            timestamp=f"{day}T10:00:00Z",
            transaction_data=(
                [{"timestamp": f"{day}T10:00:00Z", "sampledValue": [reading]}] if signed else None
            ),
        )
    )


async def priced_site_for_partner(cpo: int, connected, register, identity: str) -> int:
    """A station at a site with coordinates and a tariff for everyone (0.39 EUR/kWh, 19%
    VAT), and the partner's token, whitelisted ALWAYS. The site's id."""
    tariff = Tariff(organization=cpo, **TARIFFS[0])
    await tariff.save()
    await TariffAssignment.insert(TariffAssignment(organization=cpo, tariff=tariff.id))
    site_id = await add_site(cpo, f"{identity} site")
    await register(identity)
    await place(identity, site_id)
    async with httpx.AsyncClient() as client:
        put = await client.put(
            f"{connected.base}/tokens/NL/TNM/{UID}",
            json=a_token(whitelist="ALWAYS"),
            headers=token_header(connected.token),
        )
        assert put.status_code == 200, put.text
    return site_id


async def partner_state(live_server, admin: str, partner_id: str) -> dict:
    result = await graphql(live_server, PARTNER, {"id": partner_id}, admin)
    return result["data"]["node"]


async def test_each_cdr_of_a_partner_token_reaches_the_partner_once_and_can_be_pulled(
    live_server, cpo, connected, register, connect_charger, api_key
):
    emsp = connected.emsp
    admin = await api_key(TEST_ORGANIZATION, "admin")
    site_id = await priced_site_for_partner(cpo, connected, register, "CP-CDR")
    headers = token_header(connected.token)

    async with connect_charger("CP-CDR") as station:
        await available(station)
        await charge(station, 20000, "2026-11-23", signed=True)

        async def posted(count: int) -> bool:
            return len(emsp.cdrs) >= count

        assert await eventually(lambda: posted(1))
        [first] = emsp.cdrs
        [row] = await Cdr.select(Cdr.id, Cdr.code, Cdr.session).where(Cdr.code == first.id)
        assert first.country_code == "DE" and first.party_id == "ACM"
        assert first.session_id == str(row["session"])
        assert first.cdr_token.model_dump(mode="json") == {
            "country_code": "NL",
            "party_id": "TNM",
            "uid": UID,
            "type": "RFID",
            "contract_id": "NL-TNM-C12345678-X",
        }
        assert first.auth_method.value == "WHITELIST"
        where = first.cdr_location
        assert (where.id, where.city, where.country) == (str(site_id), "Berlin", "DEU")
        assert (where.coordinates.latitude, where.connector_id) == ("52.520008", "1")
        assert where.evse_id == f"DE*ACM*E{where.evse_uid}"
        # 20 kWh x 0.39 = 7.80 excl. VAT, 9.28 incl. 19% VAT; an hour of charging.
        assert (first.total_energy, first.total_time) == (20.0, 1.0)
        assert first.total_cost.model_dump() == {"excl_vat": 7.8, "incl_vat": 9.28}
        assert first.total_energy_cost == first.total_cost
        assert [tariff.id for tariff in first.tariffs] == [TARIFFS[0]["code"]]
        periods = first.charging_periods
        assert periods[0].tariff_id == TARIFFS[0]["code"]
        energy = sum(d.volume for p in periods for d in p.dimensions if d.type.value == "ENERGY")
        assert round(energy, 3) == 20.0
        assert first.signed_data is not None
        assert first.signed_data.encoding_method == "OCMF"
        [signed] = first.signed_data.signed_values
        assert (signed.nature, signed.signed_data) == ("End", SIGNED)

        # The partner has the CDR before the push pass that sent it ends and records itself.
        async def pass_recorded() -> dict | None:
            state = await partner_state(live_server, admin, connected.partner_id)
            return state if state["lastPushAt"] is not None else None

        state = await eventually(pass_recorded)
        assert state is not None
        assert (state["pendingDeliveries"], state["failedDeliveries"]) == (0, 0)
        assert state["lastPushAt"] is not None

        # A correction: a credit CDR naming the first, then the new one, both sent.
        right = Tariff(
            organization=cpo,
            code="RIGHT",
            name="Right",
            currency="EUR",
            elements=[{"price_components": [{"type": "ENERGY", "price": "0.30", "vat": "19"}]}],
        )
        await right.save()
        ids = {
            "cdr": str(relay.GlobalID("Cdr", str(row["id"]))),
            "tariff": str(relay.GlobalID("Tariff", str(right.id))),
        }
        fixed = await graphql(live_server, CORRECT, ids, admin)
        assert fixed["data"]["correctCdr"]["__typename"] == "CdrCorrected", fixed
        assert await eventually(lambda: posted(3))
        credit, replacement = emsp.cdrs[1:]
        assert credit.id == f"{first.id}-C" and credit.credit is True
        assert credit.credit_reference_id == first.id
        assert credit.total_cost.model_dump() == {"excl_vat": -7.8, "incl_vat": -9.28}
        assert replacement.id == f"{first.id}-R1" and not replacement.credit
        assert replacement.total_cost.model_dump() == {"excl_vat": 6.0, "incl_vat": 7.14}

        # The partner is down: the next CDR waits, and arrives when it is back.
        emsp.down = True
        await charge(station, 5000, "2026-11-24")

        async def pending() -> bool:
            state = await partner_state(live_server, admin, connected.partner_id)
            return state["pendingDeliveries"] == 1 and state["pushFailingSince"] is not None

        assert await eventually(pending)
        emsp.down = False
        assert await eventually(lambda: posted(4), timeout_s=20)
        assert emsp.cdrs[3].total_energy == 5.0

        # One the partner refuses is counted, and not sent again.
        emsp.refuse_cdrs = True
        await charge(station, 1000, "2026-11-25")

        async def refused() -> bool:
            state = await partner_state(live_server, admin, connected.partner_id)
            return state["failedDeliveries"] == 1 and state["pendingDeliveries"] == 0

        assert await eventually(refused)
        emsp.refuse_cdrs = False
        assert len(emsp.cdrs) == 4
        listed = await graphql(live_server, CDRS, {}, admin)
        newest = listed["data"]["cdrs"]["edges"][0]["node"]
        assert newest["partnerDeliveredAt"] is None
        assert "2001" in newest["partnerRefusal"]

        # The partner has fixed what made it refuse: the operator sends it once more.
        resent = await graphql(live_server, RESEND, {"id": newest["id"]}, admin)
        assert resent["data"]["resendCdrToPartner"]["cdr"]["partnerRefusal"] is None
        assert await eventually(lambda: posted(5))

        async def delivered_all() -> bool:
            state = await partner_state(live_server, admin, connected.partner_id)
            return (state["failedDeliveries"], state["pendingDeliveries"]) == (0, 0)

        assert await eventually(delivered_all)
        again = await graphql(live_server, RESEND, {"id": newest["id"]}, admin)
        assert again["data"]["resendCdrToPartner"]["code"] == "invalid_input"
        [delivered] = [
            edge["node"]
            for edge in (await graphql(live_server, CDRS, {}, admin))["data"]["cdrs"]["edges"]
            if edge["node"]["id"] == newest["id"]
        ]
        assert delivered["partnerDeliveredAt"] is not None
    assert len(emsp.cdrs) == 5
    assert len({each.id for each in emsp.cdrs}) == 5  # none sent twice

    # Pulled: every CDR of the partner's tokens, refused ones too, page by page.
    async with httpx.AsyncClient() as client:
        url = f"{connected.base}/cdrs"
        page = await client.get(url, params={"limit": 3}, headers=headers)
        assert page.status_code == 200, page.text
        assert page.headers["X-Total-Count"] == "5"
        assert 'rel="next"' in page.headers["Link"]
        pulled = [OcpiCdr.model_validate(each) for each in data_of(page)]
        rest = await client.get(url, params={"offset": 3, "limit": 3}, headers=headers)
        pulled += [OcpiCdr.model_validate(each) for each in data_of(rest)]
        assert "Link" not in rest.headers
        assert [each.id for each in pulled] == [each.id for each in emsp.cdrs]
        assert pulled[0] == emsp.cdrs[0]
        later = await client.get(url, params={"date_from": "2999-01-01T00:00:00Z"}, headers=headers)
        assert data_of(later) == [] and later.headers["X-Total-Count"] == "0"
        bad = await client.get(url, params={"offset": "-1"}, headers=headers)
        assert bad.status_code == 400

    # For finance: what the partner owes for them, as a query and as CSV.
    period = {"partner": connected.partner_id, "from": "2000-01-01T00:00:00Z"}
    period["to"] = "2999-01-01T00:00:00Z"
    settled = await graphql(live_server, SETTLEMENT, period, admin)
    [line] = settled["data"]["roamingSettlement"]["lines"]
    # 20 kWh, its credit, 20 kWh again at 0.30, then 5 kWh and 1 kWh at 0.39.
    assert line == {
        "currency": "EUR",
        "cdrs": 5,
        "credits": 1,
        "energyWh": 26000,
        "amountExclVatMinor": 834,
        "amountInclVatMinor": 992,
    }
    export = f"{live_server.http}/exports/roaming-settlement.csv"
    params = {"partnerId": connected.partner_id, "from": period["from"], "to": period["to"]}
    async with httpx.AsyncClient() as client:
        sheet = await client.get(
            export, params=params, headers={"Authorization": f"Bearer {admin}"}
        )
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(sheet.text)))
        assert rows[0][5:] == [
            "currency",
            "cdrs",
            "credits",
            "energy_kwh",
            "amount_excl_vat",
            "amount_incl_vat",
        ]
        assert rows[1][:3] == ["Test Mobility", "NL", "TNM"]
        assert rows[1][5:] == ["EUR", "5", "1", "26.000", "8.34", "9.92"]
        anonymous = await client.get(export, params=params)
        assert anonymous.status_code == 401
        backwards = params | {"from": period["to"], "to": period["from"]}
        wrong = await client.get(
            export, params=backwards, headers={"Authorization": f"Bearer {admin}"}
        )
        assert wrong.status_code == 400
    driver = await api_key(TEST_ORGANIZATION, "driver")
    refused = await graphql(live_server, SETTLEMENT, period, driver)
    assert refused["errors"][0]["extensions"]["code"] == "not_permitted"
