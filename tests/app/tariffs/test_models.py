"""Reading and writing the stored tariff JSON, and currency minor units."""

from datetime import date, time
from decimal import Decimal

import pytest

from app.demo import TARIFFS
from app.tariffs.models import (
    DayOfWeek,
    Dimension,
    Price,
    PriceComponent,
    ReservationRestriction,
    Restrictions,
    TariffElement,
    TariffSnapshot,
    from_minor_units,
    minor_unit_exponent,
)


@pytest.mark.parametrize("stored", TARIFFS, ids=[t["code"] for t in TARIFFS])
def test_the_demo_tariffs_read_and_write_back_unchanged(stored):
    snapshot = TariffSnapshot.from_ocpi(stored)
    written = snapshot.to_ocpi()
    assert written["elements"] == stored["elements"]
    assert written["currency"] == stored["currency"]
    assert written["id"] == stored["code"]
    assert TariffSnapshot.from_ocpi(written) == snapshot


def test_the_demo_ac_tariff_reads_as_decimals_and_local_restrictions():
    snapshot = TariffSnapshot.from_ocpi(TARIFFS[0])
    energy, parking = snapshot.elements
    assert energy.component(Dimension.ENERGY) == PriceComponent(
        Dimension.ENERGY, Decimal("0.39"), Decimal("19.0"), 1
    )
    assert energy.restrictions.is_empty
    assert parking.restrictions == Restrictions(min_duration=14400)


def test_ocpi_json_numbers_keep_their_written_digits():
    snapshot = TariffSnapshot.from_ocpi(
        {
            "id": "12",
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": 0.1, "vat": 10.0, "step_size": 1}
                    ]
                }
            ],
            "min_price": {"excl_vat": 0.5, "incl_vat": 0.55},
        }
    )
    assert snapshot.elements[0].price_components[0].price == Decimal("0.1")
    assert snapshot.min_price == Price(Decimal("0.5"), Decimal("0.55"))


def test_every_restriction_round_trips():
    restrictions = Restrictions(
        start_time=time(22, 0),
        end_time=time(6, 0),
        start_date=date(2024, 1, 1),
        end_date=date(2025, 1, 1),
        min_kwh=Decimal("1.5"),
        max_kwh=Decimal("50"),
        min_current=Decimal("6"),
        max_current=Decimal("32.00"),
        min_power=Decimal("3.7"),
        max_power=Decimal("22"),
        min_duration=600,
        max_duration=14400,
        day_of_week=(DayOfWeek.MONDAY, DayOfWeek.FRIDAY),
        reservation=ReservationRestriction.RESERVATION,
    )
    written = restrictions.to_ocpi()
    assert written["start_time"] == "22:00"
    assert written["day_of_week"] == ["MONDAY", "FRIDAY"]
    assert Restrictions.from_ocpi(written) == restrictions
    element = TariffElement((PriceComponent(Dimension.TIME, Decimal("2")),), restrictions)
    assert TariffElement.from_ocpi(element.to_ocpi()) == element


def test_limits_come_from_the_table_columns_in_minor_units():
    snapshot = TariffSnapshot.from_ocpi(
        {"elements": []}, currency="jpy", min_price_minor=500, max_price_minor=None
    )
    assert snapshot.currency == "JPY"
    assert snapshot.min_price == Price(Decimal(500))
    assert snapshot.to_ocpi()["min_price"] == {"excl_vat": "500"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"elements": []}, "currency"),
        (
            {
                "currency": "EUR",
                "elements": [{"price_components": [], "restrictions": {"start_time": "24:00"}}],
            },
            "HH:MM",
        ),
        (
            {
                "currency": "EUR",
                "elements": [{"price_components": [], "restrictions": {"end_date": "2024-13-01"}}],
            },
            "YYYY-MM-DD",
        ),
        (
            {
                "currency": "EUR",
                "elements": [{"price_components": [{"type": "ENERGY", "price": "-1"}]}],
            },
            "negative",
        ),
        (
            {
                "currency": "EUR",
                "elements": [{"price_components": [{"type": "ENERGY", "price": "x"}]}],
            },
            "number",
        ),
        (
            {
                "currency": "EUR",
                "elements": [{"price_components": [{"type": "ENERGY", "price": "NaN"}]}],
            },
            "finite",
        ),
    ],
)
def test_invalid_tariffs_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        TariffSnapshot.from_ocpi(data)


def test_unknown_dimension_is_refused():
    with pytest.raises(ValueError):
        PriceComponent.from_ocpi({"type": "KWH", "price": "1"})


def test_minor_units():
    assert minor_unit_exponent("EUR") == 2
    assert minor_unit_exponent("jpy") == 0
    assert minor_unit_exponent("KWD") == 3
    assert from_minor_units(1050, "EUR") == Decimal("10.50")
    assert from_minor_units(1050, "JPY") == Decimal(1050)
    assert from_minor_units(1050, "KWD") == Decimal("1.050")
