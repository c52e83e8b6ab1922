"""The tariffs module as a sender: a partner pulls the tariffs its drivers may pay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from db.tables import Partner, Tariff, TariffAssignment
from ocpi.v221.models import Tariff as OcpiTariff
from tests.conftest import graphql
from tests.ocpi.emsp import data_of, token_header
from tests.ocpp_server.test_healing_offline import eventually

ELEMENTS = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39", "vat": "19", "step_size": 1},
            {"type": "PARKING_TIME", "price": "6.00", "step_size": 300},
        ],
        "restrictions": {"min_kwh": "0.5", "day_of_week": ["MONDAY"]},
    }
]


async def add_tariff(organization: int, code: str, **fields) -> int:
    rows = await Tariff.insert(
        Tariff(
            organization=organization,
            code=code,
            name=code,
            currency="EUR",
            elements=ELEMENTS,
            updated_at=datetime.now(UTC) - timedelta(days=1),
            **fields,
        )
    ).returning(Tariff.id)
    return int(rows[0]["id"])


async def assign(organization: int, tariff_id: int, partner: int | None = None) -> None:
    await TariffAssignment.insert(
        TariffAssignment(organization=organization, tariff=tariff_id, partner=partner)
    )


async def test_a_partner_pulls_the_tariffs_its_drivers_pay(live_server, cpo, connected):
    partner = await Partner.select(Partner.id).first()
    assert partner is not None
    other = await Partner.insert(
        Partner(organization=cpo, name="Other", country_code="FR", party_id="OTH")
    ).returning(Partner.id)
    general = await add_tariff(cpo, "AC-GENERAL", min_price_minor=150)
    own = await add_tariff(cpo, "AC-TNM", max_price_minor=2500, type="REGULAR")
    theirs = await add_tariff(cpo, "AC-OTHER")
    await add_tariff(cpo, "UNUSED")
    await assign(cpo, general)
    await assign(cpo, own, partner["id"])
    await assign(cpo, theirs, other[0]["id"])

    url = f"{connected.base}/tariffs"
    headers = token_header(connected.token)
    async with httpx.AsyncClient() as client:
        first = await client.get(url, params={"limit": 1}, headers=headers)
        assert first.status_code == 200, first.text
        assert first.headers["X-Total-Count"] == "2"
        link = first.headers["Link"]
        second = await client.get(link[1 : link.index(">")], headers=headers)
        assert "Link" not in second.headers
        pulled = [OcpiTariff.model_validate(each) for each in data_of(first) + data_of(second)]
        assert [each.id for each in pulled] == ["AC-GENERAL", "AC-TNM"]
        assert (pulled[0].country_code, pulled[0].party_id) == ("DE", "ACM")
        assert pulled[0].min_price is not None and pulled[0].min_price.excl_vat == 1.5
        assert pulled[1].max_price is not None and pulled[1].max_price.excl_vat == 25.0
        component = data_of(first)[0]["elements"][0]["price_components"][0]
        assert component == {"type": "ENERGY", "price": 0.39, "vat": 19.0, "step_size": 1}
        restrictions = data_of(first)[0]["elements"][0]["restrictions"]
        assert restrictions["min_kwh"] == 0.5 and restrictions["day_of_week"] == ["MONDAY"]

        await Tariff.update({Tariff.updated_at: datetime.now(UTC)}).where(Tariff.id == own)
        since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        changed = await client.get(url, params={"date_from": since}, headers=headers)
        assert [each["id"] for each in data_of(changed)] == ["AC-TNM"]


SAVE = """
mutation ($input: TariffInput!) { createTariff(input: $input) {
  __typename ... on TariffSaved { tariff { id } } ... on UserError { code message } } }
"""
UPDATE = """
mutation ($id: ID!, $input: TariffInput!) { updateTariff(id: $id, input: $input) {
  __typename ... on UserError { code message } } }
"""
ASSIGN = """
mutation ($tariff: ID!) { assignTariff(tariffId: $tariff) {
  __typename ... on TariffAssigned { assignment { id } } ... on UserError { code message } } }
"""
UNASSIGN = """
mutation ($id: ID!) { unassignTariff(assignmentId: $id) {
  __typename ... on UserError { code message } } }
"""


def priced(price: str) -> dict:
    elements = [{"priceComponents": [{"type": "ENERGY", "price": price, "vat": 19, "stepSize": 1}]}]
    return {"code": "AC-PUSHED", "name": "AC", "currency": "EUR", "elements": elements}


async def test_a_partner_is_sent_each_tariff_its_drivers_may_pay_as_it_changes(
    live_server, cpo, connected, api_key
):
    emsp = connected.emsp
    admin = await api_key()

    async def started() -> bool:  # the partner's copy is followed from its registration on
        row = await Partner.select(Partner.pushed_tariffs).first()
        return row is not None and row["pushed_tariffs"] is not None

    assert await eventually(started)
    created = await graphql(live_server, SAVE, {"input": priced("0.39")}, admin)
    tariff_id = created["data"]["createTariff"]["tariff"]["id"]
    assigned = await graphql(live_server, ASSIGN, {"tariff": tariff_id}, admin)
    assignment = assigned["data"]["assignTariff"]["assignment"]["id"]

    async def price_sent(price: float) -> bool:
        copy = emsp.tariffs.get("AC-PUSHED")
        return copy is not None and copy.elements[0].price_components[0].price == price

    assert await eventually(lambda: price_sent(0.39), timeout_s=15)
    assert emsp.tariff_calls == [("PUT", "AC-PUSHED")]
    changed = await graphql(live_server, UPDATE, {"id": tariff_id, "input": priced("0.45")}, admin)
    assert changed["data"]["updateTariff"]["__typename"] == "TariffSaved"
    assert await eventually(lambda: price_sent(0.45), timeout_s=15)
    removed = await graphql(live_server, UNASSIGN, {"id": assignment}, admin)
    assert removed["data"]["unassignTariff"]["__typename"] != "UserError"

    async def withdrawn() -> bool:
        return "AC-PUSHED" not in emsp.tariffs

    assert await eventually(withdrawn, timeout_s=15)
    assert emsp.tariff_calls == [
        ("PUT", "AC-PUSHED"),
        ("PUT", "AC-PUSHED"),
        ("DELETE", "AC-PUSHED"),
    ]
