"""Per-port uptime (NEVI 23 CFR 680.116(b)) from status history, offline periods and maintenance."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.healing.uptime import (
    NEVI_YEAR,
    OPERATIVE_STATUSES,
    OUTAGE_STATUSES,
    UNKNOWN_STATUS,
    Availability,
    Interval,
    StatusReport,
    daily_availability,
    port_availability,
    rolling_twelve_months,
    site_availability,
)

BERLIN = "Europe/Berlin"
DAY = timedelta(days=1)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    """An instant `hours` after midnight UTC on 1 June 2026."""
    return T0 + timedelta(hours=hours)


def report(hours: float, status: str) -> StatusReport:
    return StatusReport(at(hours), status)


def span(start_hours: float, end_hours: float) -> Interval:
    return Interval(at(start_hours), at(end_hours))


def day_of(
    changes: list[StatusReport],
    offline: list[Interval] | None = None,
    excluded: list[Interval] | None = None,
) -> Availability:
    return port_availability(changes, offline or [], excluded or [], at(0), at(24))


def test_a_port_always_available_has_full_uptime():
    result = day_of([report(-1, "Available")])
    assert result.start == at(0) and result.end == at(24)
    assert result.observed_s == result.operative_s == 86_400
    assert result.outage_s == result.excluded_outage_s == 0
    assert result.uptime_percent == Decimal("100.00")


def test_charging_and_other_in_use_statuses_are_uptime():
    changes = [report(-1, "Available")] + [
        report(hour, status) for hour, status in enumerate(sorted(OPERATIVE_STATUSES))
    ]
    assert day_of(changes).uptime_percent == Decimal("100.00")


def test_a_one_hour_fault_in_a_day():
    result = day_of([report(-1, "Available"), report(10, "Faulted"), report(11, "Available")])
    assert result.outage_s == 3_600
    assert result.operative_s == 82_800
    assert result.counted_outage_s == 3_600
    assert result.uptime_percent == Decimal("95.83")  # 23 / 24


def test_unavailable_is_outage_too():
    result = day_of([report(-1, "Available"), report(12, "Unavailable")])
    assert result.outage_s == 12 * 3_600
    assert result.uptime_percent == Decimal("50.00")


def test_a_fault_during_maintenance_is_excluded():
    result = day_of(
        [report(-1, "Available"), report(10, "Faulted"), report(11, "Available")],
        excluded=[span(9, 12)],
    )
    assert result.outage_s == result.excluded_outage_s == 3_600
    assert result.counted_outage_s == 0
    # Maintenance excludes outage only: the operative hours in the window stay operative.
    assert result.operative_s == 82_800
    assert result.uptime_percent == Decimal("100.00")


def test_only_the_part_of_a_fault_inside_maintenance_is_excluded():
    result = day_of(
        [report(-1, "Available"), report(10, "Faulted"), report(12, "Available")],
        excluded=[span(11, 15), span(11.5, 13)],  # overlapping windows count once
    )
    assert result.outage_s == 7_200
    assert result.excluded_outage_s == 3_600
    assert result.uptime_percent == Decimal("95.83")


def test_an_offline_period_overlapping_a_fault_counts_once():
    result = day_of(
        [report(-1, "Available"), report(10, "Faulted"), report(12, "Available")],
        offline=[span(11, 13), span(12.5, 13)],
    )
    assert result.outage_s == 3 * 3_600  # 10:00 to 13:00
    assert result.uptime_percent == Decimal("87.50")


def test_an_offline_station_is_outage_whatever_the_port_last_said():
    result = day_of([report(-1, "Charging")], offline=[span(6, 12)])
    assert result.outage_s == 6 * 3_600
    assert result.uptime_percent == Decimal("75.00")


def test_offline_during_maintenance_is_excluded():
    result = day_of([report(-1, "Available")], offline=[span(6, 12)], excluded=[span(0, 24)])
    assert result.excluded_outage_s == result.outage_s == 6 * 3_600
    assert result.uptime_percent == Decimal("100.00")


def test_the_status_at_the_period_start_is_the_last_one_before_it():
    changes = [report(-30, "Available"), report(-5, "Faulted"), report(6, "Available")]
    result = day_of(changes)
    assert result.outage_s == 6 * 3_600
    assert result.uptime_percent == Decimal("75.00")


def test_a_report_at_the_period_start_is_in_effect_from_the_start():
    result = day_of([report(-5, "Available"), report(0, "Faulted"), report(24, "Available")])
    assert result.outage_s == 86_400
    assert result.uptime_percent == Decimal("0.00")


def test_time_before_the_first_known_status_is_not_observed():
    # Not commissioned yet: neither uptime nor outage, even though the station was offline.
    result = day_of(
        [report(2, UNKNOWN_STATUS), report(6, "Available"), report(18, "Faulted")],
        offline=[span(0, 8)],
    )
    assert result.observed_s == 18 * 3_600
    assert result.outage_s == 8 * 3_600  # offline 06:00-08:00, faulted 18:00-24:00
    assert result.uptime_percent == Decimal("55.56")


def test_an_unknown_after_commissioning_is_not_observed_unless_offline():
    result = day_of(
        [report(-1, "Available"), report(12, UNKNOWN_STATUS)],
        offline=[span(20, 22)],
    )
    assert result.observed_s == 14 * 3_600
    assert result.outage_s == 2 * 3_600


def test_a_port_that_never_reported_has_no_uptime():
    for changes in ([], [report(-1, UNKNOWN_STATUS)]):
        result = day_of(changes, offline=[span(0, 24)])
        assert result.observed_s == result.outage_s == 0
        assert result.uptime_percent is None


def test_reports_need_not_be_sorted():
    ordered = [report(-1, "Available"), report(10, "Faulted"), report(11, "Available")]
    assert day_of(list(reversed(ordered))) == day_of(ordered)
    assert day_of([ordered[2], ordered[0], ordered[1]]).uptime_percent == Decimal("95.83")


def test_reports_at_the_same_instant_apply_in_the_order_given():
    result = day_of([report(-1, "Available"), report(12, "Faulted"), report(12, "Available")])
    assert result.uptime_percent == Decimal("100.00")


def test_a_zero_length_period_observes_nothing():
    result = port_availability([report(-1, "Faulted")], [span(0, 1)], [], at(5), at(5))
    assert result.observed_s == result.operative_s == result.outage_s == 0
    assert result.uptime_percent is None


def test_times_in_other_zones_are_the_same_instants():
    tokyo_time = at(10).astimezone(ZoneInfo("Asia/Tokyo"))
    result = day_of([report(-1, "Available"), StatusReport(tokyo_time, "Faulted")])
    assert result.outage_s == 14 * 3_600


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="before it starts"):
        port_availability([], [], [], at(1), at(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        port_availability([], [], [], datetime(2026, 6, 1), at(1))
    with pytest.raises(ValueError, match="not an OCPP connector status"):
        day_of([report(1, "Broken")])
    with pytest.raises(ValueError, match="offline period cannot end before it starts"):
        day_of([], offline=[span(2, 1)])


def test_uptime_is_rounded_half_up():
    # 7 s of outage in 20,000 s: 99.965 %, which half-even would round down to 99.96.
    changes = [StatusReport(T0, "Faulted"), StatusReport(T0 + timedelta(seconds=7), "Available")]
    result = port_availability(changes, [], [], T0, T0 + timedelta(seconds=20_000))
    assert result.uptime_percent == Decimal("99.97")
    # 1 s in 1,600 s: 99.9375 %.
    changes = [
        StatusReport(T0, "Available"),
        StatusReport(T0 + timedelta(seconds=1_599), "Faulted"),
    ]
    result = port_availability(changes, [], [], T0, T0 + timedelta(seconds=1_600))
    assert result.uptime_percent == Decimal("99.94")


def test_sub_second_times_are_exact():
    changes = [
        StatusReport(T0, "Available"),
        StatusReport(T0 + timedelta(seconds=1, microseconds=500_000), "Faulted"),
    ]
    result = port_availability(changes, [], [], T0, T0 + timedelta(seconds=2))
    assert result.operative_s == Decimal("1.5") and result.outage_s == Decimal("0.5")


# --- calendar days in the site's time zone


def test_days_follow_the_site_time_zone():
    # Midnight in Berlin is 22:00 UTC in summer: a fault from 21:00 to 23:00 UTC on 1 June
    # is one hour on 1 June and one hour on 2 June, local time.
    changes = [report(-48, "Available"), report(21, "Faulted"), report(23, "Available")]
    first, second = daily_availability(changes, [], [], date(2026, 6, 1), date(2026, 6, 2), BERLIN)
    assert first.day == date(2026, 6, 1) and second.day == date(2026, 6, 2)
    assert first.availability.start == datetime(2026, 5, 31, 22, tzinfo=UTC)
    assert first.availability.end == second.availability.start
    assert first.availability.outage_s == second.availability.outage_s == 3_600


def test_daylight_saving_days_last_23_and_25_hours():
    always = [StatusReport(datetime(2026, 1, 1, tzinfo=UTC), "Available")]
    spring = daily_availability(always, [], [], date(2026, 3, 28), date(2026, 3, 30), BERLIN)
    autumn = daily_availability(always, [], [], date(2026, 10, 24), date(2026, 10, 26), BERLIN)
    assert [d.availability.observed_s for d in spring] == [86_400, 82_800, 86_400]
    assert [d.availability.observed_s for d in autumn] == [86_400, 90_000, 86_400]
    assert spring[1].day == date(2026, 3, 29) and autumn[1].day == date(2026, 10, 25)


def test_a_one_hour_fault_on_the_short_and_the_long_day():
    changes = [
        StatusReport(datetime(2026, 1, 1, tzinfo=UTC), "Available"),
        StatusReport(datetime(2026, 3, 29, 10, tzinfo=UTC), "Faulted"),
        StatusReport(datetime(2026, 3, 29, 11, tzinfo=UTC), "Available"),
        StatusReport(datetime(2026, 10, 25, 10, tzinfo=UTC), "Faulted"),
        StatusReport(datetime(2026, 10, 25, 11, tzinfo=UTC), "Available"),
    ]
    (short,) = daily_availability(changes, [], [], date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    (long,) = daily_availability(changes, [], [], date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert short.availability.uptime_percent == Decimal("95.65")  # 22 / 23
    assert long.availability.uptime_percent == Decimal("96.00")  # 24 / 25


def test_a_day_with_a_skipped_midnight_starts_at_its_first_instant():
    # Santiago de Chile springs forward at midnight: 6 September 2026 starts at 01:00 -03.
    (day,) = daily_availability(
        [StatusReport(datetime(2026, 1, 1, tzinfo=UTC), "Available")],
        [],
        [],
        date(2026, 9, 6),
        date(2026, 9, 6),
        "America/Santiago",
    )
    assert day.availability.start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert day.availability.observed_s == 23 * 3_600


def test_days_must_be_in_order():
    with pytest.raises(ValueError, match="last day"):
        daily_availability([], [], [], date(2026, 6, 2), date(2026, 6, 1), BERLIN)


# --- the NEVI figure and the site figure


def test_rolling_twelve_months_is_the_525600_minutes_before_now():
    now = datetime(2027, 1, 1, tzinfo=UTC)
    changes = [
        StatusReport(datetime(2025, 6, 1, tzinfo=UTC), "Faulted"),  # before the year: its end
        StatusReport(datetime(2026, 1, 1, 12, tzinfo=UTC), "Available"),  # counts 12 h
        StatusReport(datetime(2026, 7, 1, tzinfo=UTC), "Faulted"),
        StatusReport(datetime(2026, 7, 1, 6, tzinfo=UTC), "Available"),
        StatusReport(datetime(2026, 8, 1, tzinfo=UTC), "Faulted"),
        StatusReport(datetime(2026, 8, 2, tzinfo=UTC), "Available"),
    ]
    maintenance = [Interval(datetime(2026, 8, 1, 12, tzinfo=UTC), datetime(2026, 8, 3, tzinfo=UTC))]
    result = rolling_twelve_months(changes, [], maintenance, now)
    assert result.start == now - NEVI_YEAR == datetime(2026, 1, 1, tzinfo=UTC)
    assert result.end == now
    assert result.observed_s == 525_600 * 60
    assert result.outage_s == (12 + 6 + 24) * 3_600
    assert result.excluded_outage_s == 12 * 3_600
    # NEVI: (525,600 - (2,520 - 720)) / 525,600 minutes = 99.6575...
    assert result.uptime_percent == Decimal("99.66")


def test_rolling_twelve_months_of_a_port_commissioned_recently():
    now = datetime(2027, 1, 1, tzinfo=UTC)
    changes = [
        StatusReport(now - 10 * DAY, "Available"),
        StatusReport(now - 5 * DAY, "Faulted"),
        StatusReport(now - 4 * DAY, "Available"),
    ]
    result = rolling_twelve_months(changes, [], [], now)
    assert result.observed_s == 10 * 86_400
    assert result.uptime_percent == Decimal("90.00")


def test_a_site_weighs_its_ports_by_observed_time():
    full_day = day_of([report(-1, "Available"), report(0, "Faulted"), report(12, "Available")])
    quarter_day = day_of([report(18, "Available")])
    site = site_availability([full_day, quarter_day])
    assert site.observed_s == 30 * 3_600
    assert site.outage_s == 12 * 3_600
    assert site.uptime_percent == Decimal("60.00")  # not the mean of 50 % and 100 %
    assert site.start == at(0) and site.end == at(24)


def test_a_site_sums_excluded_outage_and_spans_its_ports_periods():
    early = port_availability([report(-1, "Faulted")], [], [span(0, 1)], at(0), at(2))
    late = port_availability([report(-1, "Available")], [], [], at(1), at(3))
    site = site_availability([early, late])
    assert (site.start, site.end) == (at(0), at(3))
    assert site.excluded_outage_s == 3_600 and site.outage_s == 7_200
    assert site.uptime_percent == Decimal("75.00")


def test_a_site_of_unobserved_ports_has_no_uptime():
    assert site_availability([day_of([])]).uptime_percent is None
    with pytest.raises(ValueError, match="at least one port"):
        site_availability([])


# --- properties

STATUSES = sorted(OPERATIVE_STATUSES | OUTAGE_STATUSES | {UNKNOWN_STATUS})
minutes = st.integers(min_value=-600, max_value=3_000)
reports = st.lists(
    st.builds(
        lambda m, s: StatusReport(T0 + timedelta(minutes=m), s), minutes, st.sampled_from(STATUSES)
    ),
    max_size=12,
)
intervals = st.lists(
    st.builds(
        lambda m, length: Interval(T0 + timedelta(minutes=m), T0 + timedelta(minutes=m + length)),
        minutes,
        st.integers(min_value=0, max_value=900),
    ),
    max_size=4,
)


@st.composite
def periods(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(minutes)
    length = draw(st.integers(min_value=0, max_value=3_000))
    return T0 + timedelta(minutes=start), T0 + timedelta(minutes=start + length)


@given(reports, intervals, intervals, periods())
def test_times_add_up_and_uptime_is_a_percentage(changes, offline, excluded, period):
    result = port_availability(changes, offline, excluded, *period)
    assert result.operative_s + result.outage_s == result.observed_s
    assert 0 <= result.excluded_outage_s <= result.outage_s
    assert 0 <= result.observed_s <= (period[1] - period[0]).total_seconds()
    if result.observed_s == 0:
        assert result.uptime_percent is None
    else:
        assert result.uptime_percent is not None
        assert 0 <= result.uptime_percent <= 100


@given(reports, intervals, intervals, periods(), intervals)
def test_an_excluded_window_never_lowers_uptime(changes, offline, excluded, period, more):
    before = port_availability(changes, offline, excluded, *period)
    after = port_availability(changes, offline, excluded + more, *period)
    assert after.observed_s == before.observed_s
    assert after.outage_s == before.outage_s
    assert after.excluded_outage_s >= before.excluded_outage_s
    if before.uptime_percent is not None:
        assert after.uptime_percent is not None
        assert after.uptime_percent >= before.uptime_percent


@given(reports, intervals, intervals, st.permutations(range(12)))
def test_the_order_of_the_inputs_does_not_matter(changes, offline, excluded, order):
    # Reports at the same instant are the one case where order matters, by design.
    distinct = list({change.at: change for change in changes}.values())
    shuffled = [distinct[i] for i in order if i < len(distinct)]
    args = (at(-10), at(50))
    assert port_availability(shuffled, offline[::-1], excluded[::-1], *args) == port_availability(
        distinct, offline, excluded, *args
    )


@given(reports, intervals, intervals)
def test_days_add_up_to_the_whole_period(changes, offline, excluded):
    days = daily_availability(
        changes, offline, excluded, date(2026, 5, 31), date(2026, 6, 3), BERLIN
    )
    whole = port_availability(
        changes, offline, excluded, days[0].availability.start, days[-1].availability.end
    )
    for field in ("observed_s", "operative_s", "outage_s", "excluded_outage_s"):
        assert sum(getattr(d.availability, field) for d in days) == getattr(whole, field)
    assert site_availability([d.availability for d in days]) == whole


def minute_by_minute(changes, offline, excluded, start, end):
    """The rules of the module docstring applied to each minute: an independent oracle."""
    ordered = sorted(changes, key=lambda change: change.at)
    known = [change.at for change in ordered if change.status != UNKNOWN_STATUS]
    operative = outage = excluded_outage = 0
    minute = start
    while minute < end:
        last = [change.status for change in ordered if change.at <= minute]
        if known and minute >= known[0]:
            if any(i.start <= minute < i.end for i in offline) or last[-1] in OUTAGE_STATUSES:
                outage += 60
                excluded_outage += 60 * any(i.start <= minute < i.end for i in excluded)
            elif last[-1] in OPERATIVE_STATUSES:
                operative += 60
        minute += timedelta(minutes=1)
    return operative, outage, excluded_outage


@given(reports, intervals, intervals, periods())
def test_agrees_with_a_minute_by_minute_count(changes, offline, excluded, period):
    result = port_availability(changes, offline, excluded, *period)
    expected = minute_by_minute(changes, offline, excluded, *period)
    assert (result.operative_s, result.outage_s, result.excluded_outage_s) == expected
