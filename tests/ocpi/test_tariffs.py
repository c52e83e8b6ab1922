"""The tariffs module as a sender: a partner pulls the tariffs its drivers may pay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from db.tables import Partner, Tariff, TariffAssignment
from ocpi.v221.models import Tariff as OcpiTariff
from tests.ocpi.emsp import data_of, token_header

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
