"""Hand-worked cases of the price calculator: boundaries in local time, daylight saving, empty
and long sessions, limits, step sizes, and what it refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.demo import TARIFFS
from app.tariffs.calculator import cost_so_far, price_session
from app.tariffs.models import (
    PriceLimit,
    SessionTimeline,
    TariffSnapshot,
    TimelinePoint,
)
from tests.app.tariffs.builders import (
    BERLIN,
    charge,
    component,
    element,
    local,
    park,
    price,
    tariff,
    timeline,
    totals,
)

EVENING_PEAK = tariff(
    element(component("ENERGY", "0.50", "19.0"), start_time="18:00", end_time="22:00"),
    element(component("ENERGY", "0.30", "19.0")),
)
NIGHT_TIME = tariff(
    element(component("TIME", "1.00"), start_time="22:00", end_time="06:00"),
    element(component("TIME", "2.00")),
)
PER_HOUR = tariff(element(component("TIME", "1.00")))
DC_FAST = TariffSnapshot.from_ocpi(next(t for t in TARIFFS if t["code"] == "DEMO-DC-FAST"))


def test_a_session_across_18_00_is_split_exactly_there():
    session = timeline(local("2024-06-03 17:30"), charge(60, 10_000))
    breakdown = price(EVENING_PEAK, session)
    first, second = breakdown.periods
    assert first.end == second.start == local("2024-06-03 18:00")  # 16:00 UTC in summer
    assert second.start == datetime(2024, 6, 3, 16, 0, tzinfo=UTC)
    assert (first.energy_element, second.energy_element) == (1, 0)
    assert (first.energy_wh, second.energy_wh) == (5_000, 5_000)
    assert breakdown.total_cost.excl_vat == 400  # 5 kWh x 0.30 + 5 kWh x 0.50


def test_energy_at_a_split_is_interpolated_between_the_readings_around_it():
    # Readings at 17:30 (0), 17:50 (2 kWh), 18:10 (6 kWh), 18:30 (7 kWh): at 18:00, 4 kWh.
    session = timeline(
        local("2024-06-03 17:30"), charge(20, 2_000), charge(20, 4_000), charge(20, 1_000)
    )
    breakdown = price(EVENING_PEAK, session)
    assert [p.energy_wh for p in breakdown.periods] == [4_000, 3_000]
    assert breakdown.total_cost.excl_vat == 270  # 4 x 0.30 + 3 x 0.50


def test_overnight_window_from_22_to_06():
    # The demo DC tariff: 0.49 from 22:00 to 06:00, 0.59 otherwise, 0.50 per session. Ten hours
    # at 10 kW from 21:00: 10 kWh at 0.59, 80 at 0.49, 10 at 0.59, and the fee: 51.50 excl.,
    # 61.285 incl. VAT, rounded half up to 61.29.
    session = timeline(local("2024-06-03 21:00"), charge(600, 100_000, power_w=10_000))
    breakdown = price(DC_FAST, session)
    assert [(p.energy_element, p.energy_wh) for p in breakdown.periods] == [
        (1, 10_000),
        (0, 80_000),
        (1, 10_000),
    ]
    assert totals(breakdown) == (5150, 6129)
    assert breakdown.periods[0].flat_element == 2


def test_midnight_and_the_day_of_the_week_in_local_time():
    # Weekend energy is cheaper. Friday 23:00 to Saturday 01:00 in Berlin: 5 kWh each side of
    # local midnight, which is 22:00 UTC.
    snapshot = tariff(
        element(component("ENERGY", "0.20"), day_of_week=["SATURDAY", "SUNDAY"]),
        element(component("ENERGY", "0.40")),
    )
    breakdown = price(snapshot, timeline(local("2024-06-07 23:00"), charge(120, 10_000)))
    assert [p.start for p in breakdown.periods][1] == datetime(2024, 6, 7, 22, 0, tzinfo=UTC)
    assert breakdown.total_cost.excl_vat == 300


def test_start_and_end_dates_are_local_and_the_end_date_is_exclusive():
    snapshot = tariff(
        element(component("ENERGY", "0.10"), start_date="2024-06-04", end_date="2024-06-05"),
        element(component("ENERGY", "0.40")),
    )
    # From Monday 23:00 to Wednesday 01:00: only Tuesday's 24 of the 26 hours are cheap.
    breakdown = price(snapshot, timeline(local("2024-06-03 23:00"), charge(26 * 60, 26_000)))
    assert [(p.energy_element, p.energy_wh) for p in breakdown.periods] == [
        (1, 1_000),
        (0, 24_000),
        (1, 1_000),
    ]


def test_night_window_on_the_25_hour_day_in_october():
    # Europe/Berlin leaves summer time on 27 Oct 2024: 22:00 to 06:00 lasts nine real hours.
    session = timeline(local("2024-10-26 22:00"), charge(9 * 60))
    assert session.end == local("2024-10-27 06:00")
    breakdown = price(NIGHT_TIME, session)
    assert breakdown.total_time_s == 9 * 3600
    assert [p.time_element for p in breakdown.periods] == [0]
    assert breakdown.total_cost.excl_vat == 900


def test_night_window_on_the_23_hour_day_in_march():
    # Summer time starts on 31 Mar 2024: 22:00 to 06:00 lasts seven real hours.
    session = timeline(local("2024-03-30 22:00"), charge(7 * 60))
    assert session.end == local("2024-03-31 06:00")
    breakdown = price(NIGHT_TIME, session)
    assert breakdown.total_time_s == 7 * 3600
    assert breakdown.total_cost.excl_vat == 700


def test_the_repeated_hour_is_priced_twice_and_the_skipped_hour_never():
    snapshot = tariff(
        element(component("TIME", "10.00"), start_time="02:00", end_time="03:00"),
        element(component("TIME", "1.00")),
    )
    # 27 Oct 2024, 00:00-04:00 local is five hours, two of them between 02:00 and 03:00.
    october = price(snapshot, timeline(local("2024-10-27 00:00"), charge(5 * 60)))
    assert october.end == local("2024-10-27 04:00").astimezone(UTC)
    assert october.total_cost.excl_vat == 2 * 1000 + 3 * 100
    # 31 Mar 2024, 00:00-04:00 local is three hours, and 02:00-03:00 does not happen.
    march = price(snapshot, timeline(local("2024-03-31 00:00"), charge(3 * 60)))
    assert march.total_cost.excl_vat == 300
    assert [p.time_element for p in march.periods] == [1]


def test_whole_days_of_25_and_23_hours():
    long_day = price(PER_HOUR, timeline(local("2024-10-27 00:00"), charge(25 * 60)))
    assert long_day.end == local("2024-10-28 00:00").astimezone(UTC)
    assert long_day.total_cost.excl_vat == 2500
    short_day = price(PER_HOUR, timeline(local("2024-03-31 00:00"), charge(23 * 60)))
    assert short_day.end == local("2024-04-01 00:00").astimezone(UTC)
    assert short_day.total_cost.excl_vat == 2300


def test_a_session_over_24_hours():
    # Monday 12:00 to Tuesday 18:00 at 10 kW under the demo DC tariff: 22 hours at 0.59 and the
    # 8 night hours at 0.49, plus the fee: 129.80 + 39.20 + 0.50.
    session = timeline(local("2024-06-03 12:00"), charge(30 * 60, 300_000, power_w=10_000))
    breakdown = price(DC_FAST, session)
    assert [p.energy_element for p in breakdown.periods] == [1, 0, 1]
    assert breakdown.total_time_s == 30 * 3600
    assert breakdown.total_cost.excl_vat == 16950


def test_zero_energy_costs_nothing_but_the_fees():
    session = timeline(local("2024-06-03 10:00"), charge(30), park(30))
    assert totals(price(EVENING_PEAK, session)) == (0, 0)
    breakdown = price(DC_FAST, session)
    assert totals(breakdown) == (50, 60)
    assert breakdown.total_energy_wh == 0


def test_a_session_of_no_length_still_has_one_period_and_its_fee():
    start = local("2024-06-03 10:00")
    breakdown = price(DC_FAST, SessionTimeline(start, start))
    assert len(breakdown.periods) == 1
    assert breakdown.periods[0].flat == 1
    assert totals(breakdown) == (50, 60)


def test_minimum_price_with_nothing_consumed_is_a_fixed_cost_at_the_tariffs_vat():
    snapshot = tariff(element(component("ENERGY", "0.30", "19.0")), min_price={"excl_vat": "1.00"})
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(10)))
    assert breakdown.limit_applied is PriceLimit.MINIMUM
    assert (breakdown.fixed_cost.excl_vat, breakdown.fixed_cost.incl_vat) == (100, 119)
    assert totals(breakdown) == (100, 119)


def test_minimum_price_from_the_tariff_table_columns():
    snapshot = TariffSnapshot.from_ocpi(
        {"elements": [element(component("ENERGY", "0.30", "19.0"))]},
        currency="EUR",
        min_price_minor=200,
        max_price_minor=1000,
    )
    start = local("2024-06-03 10:00")
    assert totals(price(snapshot, timeline(start, charge(10, 1_000)))) == (200, 238)
    assert totals(price(snapshot, timeline(start, charge(60, 50_000)))) == (1000, 1190)


def test_maximum_price_spreads_the_cut_over_the_parts():
    snapshot = tariff(
        element(component("ENERGY", "0.40", "19.0"), component("PARKING_TIME", "6.00", "19.0")),
        max_price={"excl_vat": "10.00"},
    )
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(60, 20_000), park(80)))
    # Exact: 8.00 energy + 8.00 parking, cut to 10.00: 5.00 each.
    assert (breakdown.energy_cost.excl_vat, breakdown.parking_cost.excl_vat) == (500, 500)
    assert totals(breakdown) == (1000, 1190)


def test_time_billed_in_300_second_steps():
    snapshot = tariff(element(component("TIME", "6.00", "19.0", 300)))
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(7)))
    assert breakdown.time_cost.excl_vat == 100  # 10 minutes
    assert breakdown.total_charging_time_s == 420  # measured


def test_energy_billed_in_1000_wh_steps():
    snapshot = tariff(element(component("ENERGY", "0.30", step_size=1000)))
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(20, 1_200)))
    assert breakdown.energy_cost.excl_vat == 60  # 2 kWh
    assert breakdown.total_energy_wh == 1_200


def test_kwh_thresholds_split_where_the_energy_reaches_them():
    snapshot = tariff(
        element(component("ENERGY", "0.00"), max_kwh="1"),
        element(component("ENERGY", "0.20")),
    )
    session = timeline(local("2024-06-03 10:00"), charge(30, 3_000))
    breakdown = price(snapshot, session)
    first, second = breakdown.periods
    assert first.end == local("2024-06-03 10:10")
    assert (first.energy_wh, second.energy_wh) == (1_000, 2_000)
    assert breakdown.total_cost.excl_vat == 40


def test_duration_thresholds_are_measured_from_the_session_start():
    # The demo AC tariff: 6.00 per hour idle, but only from 4 hours into the session.
    snapshot = TariffSnapshot.from_ocpi(next(t for t in TARIFFS if t["code"] == "DEMO-AC-STANDARD"))
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(180, 11_000), park(120)))
    assert [(p.parking_element, p.parking_time_s) for p in breakdown.periods[1:]] == [
        (None, 3600),
        (1, 3600),
    ]
    # 11 kWh x 0.39 + 1 hour x 6.00
    assert breakdown.total_cost.excl_vat == 1029


def test_periods_merge_when_nothing_changes_for_the_tariff():
    session = timeline(
        local("2024-06-03 10:00"),
        charge(10, 1_000, power_w=6_000),
        charge(10, 2_000, power_w=12_000),
        charge(10, 1_500, power_w=9_000),
    )
    breakdown = price(EVENING_PEAK, session)
    assert len(breakdown.periods) == 1
    assert breakdown.periods[0].energy_wh == 4_500


def test_a_register_that_goes_back_is_read_as_standing_still():
    start = local("2024-06-03 10:00")
    points = (
        TimelinePoint(start, 0),
        TimelinePoint(start + timedelta(minutes=10), 5_000),
        TimelinePoint(start + timedelta(minutes=20), 3_000),
        TimelinePoint(start + timedelta(minutes=30), 6_000),
    )
    breakdown = price(EVENING_PEAK, SessionTimeline(start, start + timedelta(minutes=30), points))
    assert breakdown.total_energy_wh == 6_000
    assert breakdown.total_cost.excl_vat == 180


def test_zero_decimal_currency():
    snapshot = tariff(element(component("ENERGY", "30", "10.0")), currency="JPY")
    breakdown = price(
        snapshot, timeline(local("2024-06-03 10:00", "Asia/Tokyo"), charge(60, 10_500))
    )
    assert totals(breakdown) == (315, 347)  # 346.5 yen, half up


def test_running_cost_equals_the_price_of_the_session_cut_at_now():
    session = timeline(local("2024-06-03 17:00"), charge(60, 10_000), charge(60, 8_000))
    now = local("2024-06-03 18:30")
    running = cost_so_far(EVENING_PEAK, session, BERLIN, now)
    cut = price(EVENING_PEAK, SessionTimeline(session.start, now, session.points))
    assert running == cut
    assert running.total_energy_wh == 14_000
    assert running.total_cost.excl_vat == 10 * 30 + 4 * 50


def test_running_cost_before_the_start_is_an_empty_session():
    session = timeline(local("2024-06-03 17:00"), charge(60, 10_000))
    running = cost_so_far(DC_FAST, session, BERLIN, local("2024-06-03 16:59"))
    assert running.total_time_s == 0
    assert totals(running) == (50, 60)


def test_the_snapshot_read_back_from_its_json_prices_the_same():
    session = timeline(local("2024-06-03 21:00"), charge(120, 30_000), park(30))
    again = TariffSnapshot.from_ocpi(DC_FAST.to_ocpi())
    assert again == DC_FAST
    assert price(again, session) == price(DC_FAST, session)


def test_naive_times_and_backward_sessions_are_refused():
    naive = datetime(2024, 6, 3, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        price_session(PER_HOUR, SessionTimeline(naive, naive), BERLIN)
    start = local("2024-06-03 10:00")
    with pytest.raises(ValueError, match="before it starts"):
        price_session(PER_HOUR, SessionTimeline(start, start - timedelta(seconds=1)), BERLIN)


def test_money_and_volumes_are_decimal_and_integer_minor_units():
    breakdown = price(EVENING_PEAK, timeline(local("2024-06-03 17:30"), charge(60, 10_001)))
    assert isinstance(breakdown.total_energy_wh, Decimal)
    assert isinstance(breakdown.total_cost.excl_vat, int)
    assert breakdown.energy_cost == breakdown.total_cost


def test_reservation_elements_do_not_price_the_session():
    snapshot = tariff(
        element(component("TIME", "5.00"), reservation="RESERVATION"),
        element(component("TIME", "1.00")),
    )
    breakdown = price(snapshot, timeline(local("2024-06-03 10:00"), charge(60)))
    assert breakdown.periods[0].time_element == 1
    assert breakdown.total_cost.excl_vat == 100


def test_a_power_band_does_not_apply_while_the_power_is_unknown():
    snapshot = tariff(
        element(component("ENERGY", "0.20"), max_power="16"),
        element(component("ENERGY", "0.50")),
    )
    start = local("2024-06-03 10:00")
    assert price(snapshot, timeline(start, charge(60, 10_000))).total_cost.excl_vat == 500
    known = timeline(start, charge(60, 10_000, power_w=10_000))
    assert price(snapshot, known).total_cost.excl_vat == 200


def test_a_minimum_price_rounds_its_vat_like_any_amount():
    # Topping 0.01 EUR up to 5.50 divides; 5.50 + 19% is 6.545, which rounds half up to 6.55,
    # not to 6.54 from the division's last-digit noise.
    tiny = tariff(
        element(component("TIME", "0.01", "19.0"), component("FLAT", "0.01", "19.0")),
        min_price={"excl_vat": "5.50"},
    )
    start = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)
    session = SessionTimeline(
        start, start + timedelta(seconds=1), (TimelinePoint(start, 0, None, None, True),)
    )
    breakdown = price_session(tiny, session, BERLIN)
    assert (breakdown.total_cost.excl_vat, breakdown.total_cost.incl_vat) == (550, 655)
