"""The price that applies now, in words, for display before a session starts (AFIR)."""

from app.demo import TARIFFS
from app.tariffs.calculator import applicable_prices
from app.tariffs.models import Dimension, TariffSnapshot
from tests.app.tariffs.builders import BERLIN, component, element, local, tariff

AC_STANDARD = TariffSnapshot.from_ocpi(TARIFFS[0])
DC_FAST = TariffSnapshot.from_ocpi(TARIFFS[1])


def descriptions(snapshot, at, **state):
    prices = applicable_prices(snapshot, at, BERLIN, **state)
    return [c.description for c in prices.components]


def test_energy_price_and_idle_fee_after_four_hours():
    assert descriptions(AC_STANDARD, local("2024-06-03 12:00")) == [
        "0.4641 EUR per kWh incl. 19% VAT",
        "7.14 EUR per hour parked incl. 19% VAT after 4 h, billed per 1 min",
    ]


def test_time_of_use_price_depends_on_the_local_time():
    assert descriptions(DC_FAST, local("2024-06-03 23:00")) == [
        "0.5831 EUR per kWh incl. 19% VAT until 06:00",
        "0.595 EUR per session incl. 19% VAT",
    ]
    prices = applicable_prices(DC_FAST, local("2024-06-03 12:00"), BERLIN)
    (energy,) = prices.for_dimension(Dimension.ENERGY)
    assert (energy.element_index, energy.description) == (1, "0.7021 EUR per kWh incl. 19% VAT")
    assert prices.at.tzinfo is not None and prices.at.hour == 12


def test_the_local_time_is_taken_in_the_site_time_zone():
    utc_evening = local("2024-06-03 21:30", "UTC")  # 23:30 in Berlin
    prices = applicable_prices(DC_FAST, utc_evening, BERLIN)
    assert prices.for_dimension(Dimension.ENERGY)[0].element_index == 0


POWER_BANDS = tariff(
    element(component("ENERGY", "0.20", "20.0"), max_power="16.00"),
    element(component("ENERGY", "0.35", "20.0"), max_power="32.00"),
    element(component("ENERGY", "0.50", "20.0")),
)


def test_power_bands_are_conditions_until_the_power_is_known():
    assert descriptions(POWER_BANDS, local("2024-06-03 12:00")) == [
        "0.24 EUR per kWh incl. 20% VAT below 16 kW",
        "0.42 EUR per kWh incl. 20% VAT below 32 kW",
        "0.60 EUR per kWh incl. 20% VAT",
    ]
    assert descriptions(POWER_BANDS, local("2024-06-03 12:00"), power_w=20_000) == [
        "0.42 EUR per kWh incl. 20% VAT"
    ]


def test_progress_conditions_and_no_vat():
    snapshot = tariff(
        element(component("PARKING_TIME", "0.0", step_size=60), max_duration=3600),
        element(
            component("PARKING_TIME", "2.0", step_size=60), min_duration=3600, max_duration=10800
        ),
        element(component("PARKING_TIME", "3.0", step_size=60), min_duration=10800),
        element(component("ENERGY", "0.0"), max_kwh="1.0"),
        element(component("ENERGY", "0.2"), min_kwh="1.0", min_current="6"),
    )
    assert descriptions(snapshot, local("2024-06-03 12:00")) == [
        "0.00 EUR per kWh (no VAT) for the first 1 kWh",
        "0.20 EUR per kWh (no VAT) at 6 A or more after 1 kWh",
        "0.00 EUR per hour parked (no VAT) for the first 1 h, billed per 1 min",
        "2.00 EUR per hour parked (no VAT) from 1 h to 3 h, billed per 1 min",
        "3.00 EUR per hour parked (no VAT) after 3 h, billed per 1 min",
    ]


def test_session_limits_are_notes_incl_vat():
    snapshot = tariff(
        element(component("ENERGY", "0.25", "10.0", 100)),
        min_price={"excl_vat": "0.50"},
        max_price={"excl_vat": "10.00", "incl_vat": "11.00"},
    )
    prices = applicable_prices(snapshot, local("2024-06-03 12:00"), BERLIN)
    assert prices.notes == (
        "a session costs at least 0.55 EUR incl. VAT",
        "a session costs at most 11.00 EUR incl. VAT",
    )
    assert prices.components[0].description == (
        "0.275 EUR per kWh incl. 10% VAT, billed per 0.1 kWh"
    )


def test_elements_outside_their_days_are_left_out():
    snapshot = tariff(
        element(component("TIME", "1.25", "20.0"), day_of_week=["SATURDAY", "SUNDAY"]),
        element(component("TIME", "2.00", "20.0", 600)),
    )
    assert descriptions(snapshot, local("2024-06-08 12:00")) == [
        "1.50 EUR per hour charging incl. 20% VAT"
    ]
    assert descriptions(snapshot, local("2024-06-03 12:00")) == [
        "2.40 EUR per hour charging incl. 20% VAT, billed per 10 min"
    ]
