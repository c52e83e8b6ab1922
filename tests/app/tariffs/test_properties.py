"""Properties of the price calculator over generated tariffs and sessions."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.tariffs.calculator import cost_so_far, price_session
from app.tariffs.models import Cost, SessionTimeline, TariffSnapshot, TimelinePoint
from tests.app.tariffs.builders import component, element

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]
# Daylight-saving days in Berlin and New York, so that they come up often.
NOTABLE_STARTS = [
    datetime(2024, 3, 30, 20, 0, tzinfo=UTC),
    datetime(2024, 10, 26, 20, 0, tzinfo=UTC),
    datetime(2024, 3, 10, 4, 0, tzinfo=UTC),
    datetime(2024, 11, 3, 3, 0, tzinfo=UTC),
]

prices = st.decimals(min_value=0, max_value=10, places=2).map(str)
vats = st.sampled_from([None, "0", "5.5", "19.0", "21"])
clocks = st.sampled_from(["00:00", "06:00", "09:30", "17:00", "18:00", "22:00", "23:59"])
days = st.lists(
    st.sampled_from(["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]),
    max_size=3,
    unique=True,
)


@st.composite
def limits(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.none() | st.integers(0, 5_000))
    high = draw(st.none() | st.integers(low or 0, 20_000))
    data = {}
    if low is not None:
        data["min_price"] = {"excl_vat": str(Decimal(low).scaleb(-2))}
    if high is not None:
        data["max_price"] = {"excl_vat": str(Decimal(high).scaleb(-2))}
    return data


@st.composite
def calendar_restrictions(draw: st.DrawFn) -> dict[str, Any]:
    restrictions: dict[str, Any] = {}
    if draw(st.booleans()):
        restrictions["start_time"] = draw(clocks)
    if draw(st.booleans()):
        restrictions["end_time"] = draw(clocks)
    if chosen := draw(days):
        restrictions["day_of_week"] = chosen
    return restrictions


@st.composite
def any_restrictions(draw: st.DrawFn) -> dict[str, Any]:
    restrictions = draw(calendar_restrictions())
    if draw(st.booleans()):
        restrictions["min_kwh"] = str(draw(st.integers(0, 30)))
    if draw(st.booleans()):
        restrictions["max_kwh"] = str(draw(st.integers(1, 60)))
    if draw(st.booleans()):
        restrictions["min_duration"] = draw(st.integers(0, 20_000))
    if draw(st.booleans()):
        restrictions["max_duration"] = draw(st.integers(1, 40_000))
    if draw(st.booleans()):
        restrictions["max_power"] = str(draw(st.integers(1, 100)))
    return restrictions


def components(
    steps: st.SearchStrategy[int], vat: st.SearchStrategy[str | None] = vats
) -> st.SearchStrategy[list[dict[str, Any]]]:
    dimensions = st.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "FLAT"])
    one = st.builds(component, dimensions, prices, vat, steps)
    return st.lists(one, min_size=1, max_size=4, unique_by=lambda c: c["type"])


def tariff_vats(draw: st.DrawFn) -> st.SearchStrategy[str | None]:
    """Either one VAT rate for the whole tariff, the common case, or a mix."""
    return st.just(draw(vats)) if draw(st.booleans()) else vats


def snapshot(elements: list[dict[str, Any]], extra: dict[str, Any]) -> TariffSnapshot:
    return TariffSnapshot.from_ocpi({"currency": "EUR", "elements": elements, **extra})


@st.composite
def any_tariff(draw: st.DrawFn) -> TariffSnapshot:
    """Any shape: restrictions of every kind, any step sizes, maybe no fallback."""
    steps = st.sampled_from([0, 1, 60, 300, 900, 1000])
    elements = draw(
        st.lists(
            st.builds(lambda c, r: element(*c, **r), components(steps), any_restrictions()),
            min_size=1,
            max_size=5,
        )
    )
    return snapshot(elements, draw(limits()))


@st.composite
def single_element_tariff(draw: st.DrawFn) -> TariffSnapshot:
    """One element for the whole session, with any step sizes."""
    steps = st.sampled_from([1, 60, 300, 900, 1000])
    return snapshot([element(*draw(components(steps, tariff_vats(draw))))], draw(limits()))


@st.composite
def time_of_use_tariff(draw: st.DrawFn) -> TariffSnapshot:
    """Prices by time of day and day of week, step size 1, and a fallback for every dimension."""
    vat = tariff_vats(draw)
    timed = st.builds(
        lambda c, r: element(*c, **r), components(st.just(1), vat), calendar_restrictions()
    )
    fallback = element(
        component("ENERGY", draw(prices), draw(vat)),
        component("TIME", draw(prices), draw(vat)),
        component("PARKING_TIME", draw(prices), draw(vat)),
        component("FLAT", draw(prices), draw(vat)),
    )
    return snapshot([*draw(st.lists(timed, max_size=4)), fallback], draw(limits()))


@st.composite
def sessions(draw: st.DrawFn) -> SessionTimeline:
    """Whole-second legs of charging or parking, each with its own energy and power."""
    start = draw(
        st.sampled_from(NOTABLE_STARTS)
        | st.datetimes(datetime(2024, 1, 1), datetime(2025, 12, 31), timezones=st.just(UTC))
    ).replace(microsecond=0)
    legs = draw(
        st.lists(
            st.tuples(
                st.integers(0, 6 * 3600),
                st.integers(0, 30_000),
                st.booleans(),
                st.none() | st.integers(0, 150_000),
            ),
            max_size=6,
        )
    )
    points = []
    moment, energy = start, 0
    for seconds, energy_wh, charging, power_w in legs:
        points.append(TimelinePoint(moment, energy, power_w, None, charging))
        moment += timedelta(seconds=seconds)
        energy += energy_wh if charging and seconds else 0  # no energy in no time
    points.append(TimelinePoint(moment, energy, None, None, legs[-1][2] if legs else True))
    return SessionTimeline(start, moment, tuple(points))


def scaled(session: SessionTimeline, factor: int) -> SessionTimeline:
    points = tuple(replace(p, energy_wh=Decimal(p.energy_wh) * factor) for p in session.points)
    return replace(session, points=points)


def longer(session: SessionTimeline, seconds: int) -> SessionTimeline:
    return replace(session, end=session.end + timedelta(seconds=seconds))


def assert_not_less(more: Cost, less: Cost, tariff: TariffSnapshot) -> None:
    assert more.excl_vat >= less.excl_vat
    # With VAT rates that differ between parts, only the amount excl. VAT is monotone: a limit
    # scales every part by the same share, so consuming more of a low-VAT part shifts a capped
    # total towards lower VAT; and the time step is rounded on the dimension priced last, so
    # staying longer can move that rounding from TIME to a lower-VAT PARKING_TIME.
    rates = {c.vat for e in tariff.elements for c in e.price_components}
    if len(rates) == 1:
        assert more.incl_vat >= less.incl_vat


@settings(max_examples=300, deadline=None)
@given(any_tariff(), sessions(), st.sampled_from(ZONES))
def test_totals_hold_together(tariff, session, zone):
    breakdown = price_session(tariff, session, zone)
    parts = [
        breakdown.energy_cost,
        breakdown.time_cost,
        breakdown.parking_cost,
        breakdown.fixed_cost,
    ]
    total = breakdown.total_cost
    # Never negative, VAT never negative, and the parts add up to the total.
    assert all(part.excl_vat >= 0 and part.vat >= 0 for part in parts)
    assert total.incl_vat >= total.excl_vat >= 0
    assert sum(part.excl_vat for part in parts) == total.excl_vat
    assert sum(part.incl_vat for part in parts) == total.incl_vat
    # Within the tariff's limits.
    if tariff.min_price is not None:
        assert total.excl_vat >= tariff.min_price.excl_vat * 100
    if tariff.max_price is not None:
        assert total.excl_vat <= tariff.max_price.excl_vat * 100


@settings(max_examples=300, deadline=None)
@given(any_tariff(), sessions(), st.sampled_from(ZONES))
def test_periods_cover_the_session_and_their_volumes_sum_to_the_totals(tariff, session, zone):
    breakdown = price_session(tariff, session, zone)
    periods = breakdown.periods
    assert periods[0].start == session.start
    assert periods[-1].end == session.end
    assert all(a.end == b.start for a, b in pairwise(periods))
    assert sum(p.energy_wh for p in periods) == breakdown.total_energy_wh
    assert breakdown.total_energy_wh == session.points[-1].energy_wh
    assert sum(p.time_s for p in periods) == breakdown.total_charging_time_s
    assert sum(p.parking_time_s for p in periods) == breakdown.total_parking_time_s
    assert breakdown.total_charging_time_s + breakdown.total_parking_time_s == (
        breakdown.total_time_s
    )
    assert breakdown.total_time_s == (session.end - session.start).total_seconds()
    assert sum(p.flat for p in periods) <= 1
    assert all(p.energy_wh >= 0 and p.time_s >= 0 and p.parking_time_s >= 0 for p in periods)


@settings(max_examples=200, deadline=None)
@given(
    single_element_tariff() | time_of_use_tariff(),
    sessions(),
    st.sampled_from(ZONES),
    st.integers(2, 4),
)
def test_more_energy_never_costs_less(tariff, session, zone, factor):
    less = price_session(tariff, session, zone).total_cost
    more = price_session(tariff, scaled(session, factor), zone).total_cost
    assert_not_less(more, less, tariff)


@settings(max_examples=200, deadline=None)
@given(
    single_element_tariff() | time_of_use_tariff(),
    sessions(),
    st.sampled_from(ZONES),
    st.integers(1, 30 * 3600),
)
def test_staying_longer_never_costs_less(tariff, session, zone, extra_seconds):
    shorter = price_session(tariff, session, zone).total_cost
    longer_cost = price_session(tariff, longer(session, extra_seconds), zone).total_cost
    assert_not_less(longer_cost, shorter, tariff)


@settings(max_examples=100, deadline=None)
@given(any_tariff(), sessions(), st.sampled_from(ZONES))
def test_running_cost_at_the_end_is_the_session_price(tariff, session, zone):
    running = cost_so_far(tariff, replace(session, end=session.start), zone, session.end)
    assert running == price_session(tariff, session, zone)


@settings(max_examples=100, deadline=None)
@given(any_tariff())
def test_a_snapshot_reads_back_from_its_json_unchanged(tariff):
    assert TariffSnapshot.from_ocpi(tariff.to_ocpi()) == tariff
