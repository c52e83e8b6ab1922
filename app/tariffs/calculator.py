"""The price of a charging session under an OCPI 2.2.1 tariff, and the price that applies now.

Pure logic: no I/O and no clock. The caller passes the tariff snapshot, the session's meter
timeline and the site's time zone (an IANA name such as "Europe/Berlin").

How a session is priced (`price_session`):

1. Slices. The session is cut at every timeline point (power, current and the charging state
   hold from one point to the next; the energy register is linear between points); at every
   instant where a restriction can change its verdict: each start/end time of day and each
   midnight in the site's time zone (both occurrences of an hour that daylight saving repeats,
   and the daylight-saving changes themselves), session start + min/max_duration; and where the
   energy charged so far crosses a min/max_kwh. An energy reading interpolated at a cut is kept
   to 1 mWh: a measurement estimate, not money.
2. Matching. In each slice and for each dimension, the first element in tariff order that has
   a component of that dimension and whose restrictions hold at the slice's start: times, dates
   and days in local time, min/max_kwh against the energy charged so far, min/max_duration
   against the time since the session started. Reservation elements price reservations, not
   sessions, and are skipped. A power or current restriction does not hold while the power or
   current is unknown (when not charging, both count as zero). Energy is priced in any state;
   time is TIME while charging and PARKING_TIME while not. No matching element: that dimension
   is free in that slice. Adjacent slices with the same state and the same elements merge into
   one charging period.
3. FLAT is paid once per session: the first element with a FLAT component that matches, in the
   first slice where one does.
4. Step sizes, once per session, as the OCPI 2.2.1 CDR module words it. ENERGY: the session's
   priced energy is rounded up to the step_size of the last ENERGY component used. TIME and
   PARKING_TIME share one rounding: only the dimension of the last time-based period that had a
   price is rounded, its session total up to the step_size of its last component; the other is
   billed as measured. The extra is billed at that last component's price and VAT.
5. VAT per component: each component's cost times its own rate.
6. Limits: the total excl. VAT is clamped to min_price/max_price by scaling every dimension (and
   its VAT) in proportion; a minimum reached with nothing else to pay is a fixed cost, at the
   VAT rate of the tariff's first component that has one. A limit's incl. VAT amount, when the
   tariff gives one, bounds the total incl. VAT the same way.

Rounding: all arithmetic is Decimal with 40 significant digits, and no amount of money is
rounded before the very end. There, the total excl. VAT and the total incl. VAT are each rounded
once to the currency's minor unit (two decimals, none for JPY, ...) with ROUND_HALF_UP. The
energy, time, parking and fixed parts then get whole minor units by largest remainder, so that
they add up to those totals exactly: each part's amount excl. VAT and its VAT are floored, and
the units left over go to the parts with the largest fractions (the earlier part on a tie). Each
part is thus within one minor unit of its exact value.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    localcontext,
)
from itertools import pairwise
from zoneinfo import ZoneInfo

from app.tariffs.models import (
    ApplicableComponent,
    ApplicablePrices,
    ChargingPeriod,
    Cost,
    DayOfWeek,
    Dimension,
    Price,
    PriceBreakdown,
    PriceComponent,
    PriceLimit,
    Restrictions,
    SessionTimeline,
    TariffSnapshot,
    TimelinePoint,
    minor_unit_exponent,
)

# Enough digits that no exact amount of money loses anything before the final rounding.
_PRECISION = 40
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_WH_PER_KWH = Decimal(1000)
_W_PER_KW = Decimal(1000)
_MILLI_WH = Decimal("0.001")
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
# Cost parts in the order of the breakdown; each dimension's price is per this many units.
_PARTS = (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME, Dimension.FLAT)
_UNIT_SIZE = {
    Dimension.ENERGY: _WH_PER_KWH,
    Dimension.TIME: Decimal(3600),
    Dimension.PARKING_TIME: Decimal(3600),
    Dimension.FLAT: _ONE,
}
_UNIT_WORDS = {
    Dimension.ENERGY: "per kWh",
    Dimension.TIME: "per hour charging",
    Dimension.PARKING_TIME: "per hour parked",
    Dimension.FLAT: "per session",
}
_MOST_DECIMALS_SHOWN = 4


def price_session(
    tariff: TariffSnapshot, timeline: SessionTimeline, time_zone: str
) -> PriceBreakdown:
    """What a session costs under a tariff, with its charging periods, by the OCPI rules."""
    with localcontext(prec=_PRECISION):
        zone = ZoneInfo(time_zone)
        start = _utc(timeline.start, "the session start")
        end = _utc(timeline.end, "the session end")
        if end < start:
            raise ValueError("a session cannot end before it starts")
        candidates = _candidates(tariff)
        nodes = _meter_nodes(timeline.points, start, end)
        nodes = _cut_at_instants(nodes, _restriction_instants(tariff, start, end, zone))
        nodes = _cut_at_energies(nodes, _energy_thresholds(tariff))
        periods = _periods(nodes, start, zone, candidates)
        return _breakdown(tariff, start, end, periods)


def cost_so_far(
    tariff: TariffSnapshot, timeline: SessionTimeline, time_zone: str, now: datetime
) -> PriceBreakdown:
    """What a running session has cost up to now: `price_session` with the end set to now.

    Linear in the timeline's points plus the restriction boundaries it crosses, so it can run
    on every meter value.
    """
    end = max(_utc(now, "now"), _utc(timeline.start, "the session start"))
    return price_session(tariff, replace(timeline, end=end), time_zone)


def applicable_prices(
    tariff: TariffSnapshot,
    at: datetime,
    time_zone: str,
    *,
    power_w: Decimal | int | None = None,
    current_a: Decimal | int | None = None,
) -> ApplicablePrices:
    """The prices of a session starting at `at`, in words, to show before it starts (AFIR).

    Per dimension, in tariff order: the elements that hold at that local time (and at that
    power or current, when given). What depends on how the session goes (its duration, its
    energy, and power or current when not given) becomes conditions in words. A dimension's
    list ends at the first element without conditions: no later one can apply.
    """
    with localcontext(prec=_PRECISION):
        local = _utc(at, "the moment").astimezone(ZoneInfo(time_zone))
        power_kw = None if power_w is None else Decimal(power_w) / _W_PER_KW
        current = None if current_a is None else Decimal(current_a)
        components: list[ApplicableComponent] = []
        for dimension, candidates in _candidates(tariff).items():
            for candidate in candidates:
                restrictions = candidate.restrictions
                if not _holds_on_calendar(restrictions, local):
                    continue
                conditions = _open_conditions(restrictions, power_kw, current)
                if conditions is None:
                    continue
                components.append(_applicable(dimension, candidate, conditions, tariff.currency))
                if not conditions:
                    break
        return ApplicablePrices(
            at=local,
            currency=tariff.currency,
            components=tuple(components),
            notes=_limit_notes(tariff),
        )


# --- The timeline as nodes: instants with the energy charged so far and the state after them.


@dataclass(frozen=True, slots=True)
class _State:
    power_kw: Decimal | None
    current_a: Decimal | None
    charging: bool


@dataclass(frozen=True, slots=True)
class _Node:
    at: datetime  # UTC
    energy_wh: Decimal  # charged since the session started
    state: _State  # holds from here to the next node


def _utc(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _tidy(number: Decimal) -> Decimal:
    """The same number without trailing zeros: 1800.000000 -> 1800, 12.500 -> 12.5."""
    whole = number.to_integral_value()
    return whole if number == whole else number.normalize()


def _seconds(duration: timedelta) -> Decimal:
    return _tidy(Decimal(duration // _MICROSECOND).scaleb(-6))


def _state(point: TimelinePoint) -> _State:
    power_kw = None if point.power_w is None else Decimal(point.power_w) / _W_PER_KW
    current = None if point.current_a is None else Decimal(point.current_a)
    if not point.charging:
        # Not charging draws nothing, whether or not the charger said so.
        power_kw = _ZERO if power_kw is None else power_kw
        current = _ZERO if current is None else current
    return _State(power_kw, current, point.charging)


def _readings(points: Sequence[TimelinePoint]) -> list[_Node]:
    """The points as nodes in time order, one per instant, the register never going down."""
    timed = sorted(((_utc(p.at, "a timeline point"), p) for p in points), key=lambda t: t[0])
    readings: list[_Node] = []
    highest = _ZERO
    for at, point in timed:
        # A register that goes back (a meter swap, a glitch) is read as standing still.
        highest = max(highest, Decimal(point.energy_wh))
        node = _Node(at, highest, _state(point))
        if readings and readings[-1].at == at:
            readings[-1] = node
        else:
            readings.append(node)
    return readings


def _interpolate(before: _Node, after: _Node, moment: datetime) -> Decimal:
    span = (after.at - before.at) // _MICROSECOND
    elapsed = (moment - before.at) // _MICROSECOND
    estimate = before.energy_wh + (after.energy_wh - before.energy_wh) * elapsed / span
    estimate = _tidy(estimate.quantize(_MILLI_WH, ROUND_HALF_EVEN))
    return min(max(estimate, before.energy_wh), after.energy_wh)


def _read_at(readings: list[_Node], times: list[datetime], moment: datetime) -> _Node:
    """The register at a moment: interpolated between readings, flat after the last one."""
    index = bisect_right(times, moment)
    before = readings[index - 1]
    if before.at == moment:
        return before
    if index == len(readings):
        return _Node(moment, before.energy_wh, before.state)
    return _Node(moment, _interpolate(before, readings[index], moment), before.state)


def _meter_nodes(points: Sequence[TimelinePoint], start: datetime, end: datetime) -> list[_Node]:
    """Nodes from start to end, the register read at both, energy counted from the start."""
    readings = _readings(points)
    if not readings or readings[0].at > start:
        # The register counts from the session start, so it reads zero there.
        state = readings[0].state if readings else _State(None, None, charging=True)
        readings.insert(0, _Node(start, _ZERO, state))
    times = [reading.at for reading in readings]
    first = _read_at(readings, times, start)
    if end == start:
        return [replace(first, energy_wh=_ZERO)]
    inner = readings[bisect_right(times, start) : bisect_left(times, end)]
    nodes = [first, *inner, _read_at(readings, times, end)]
    if first.energy_wh:
        nodes = [replace(node, energy_wh=node.energy_wh - first.energy_wh) for node in nodes]
    return nodes


# --- Cuts where a restriction can change its verdict.


def _active_elements(tariff: TariffSnapshot) -> Iterator[tuple[int, Restrictions]]:
    """Elements that can price a session: reservation elements price only reservations."""
    for index, element in enumerate(tariff.elements):
        if element.restrictions.reservation is None:
            yield index, element.restrictions


def _restriction_instants(
    tariff: TariffSnapshot, start: datetime, end: datetime, zone: ZoneInfo
) -> list[datetime]:
    """Instants inside the session where some restriction can change its verdict."""
    instants: set[datetime] = set()
    clocks: set[time] = set()
    length = _seconds(end - start)
    for _, restrictions in _active_elements(tariff):
        for seconds in (restrictions.min_duration, restrictions.max_duration):
            if seconds is not None and 0 < seconds < length:
                instants.add(start + timedelta(seconds=seconds))
        clocks.update(c for c in (restrictions.start_time, restrictions.end_time) if c is not None)
        if restrictions.start_date or restrictions.end_date or restrictions.day_of_week:
            clocks.add(_MIDNIGHT)
    if clocks:
        instants.update(_wall_clock_instants(clocks, start, end, zone))
        instants.update(_offset_changes(zone, start, end))
    return sorted(instant for instant in instants if start < instant < end)


def _wall_clock_instants(
    clocks: set[time], start: datetime, end: datetime, zone: ZoneInfo
) -> Iterator[datetime]:
    """Each clock time on each local day of the session, in UTC. Both folds: a time in the hour
    repeated when daylight saving ends happens twice, and a time in the skipped hour resolves
    to either side of the gap (the change itself comes from `_offset_changes`)."""
    day = start.astimezone(zone).date() - _ONE_DAY
    last_day = end.astimezone(zone).date() + _ONE_DAY
    while day <= last_day:
        for clock in clocks:
            local = datetime.combine(day, clock, tzinfo=zone)
            yield local.astimezone(UTC)
            yield local.replace(fold=1).astimezone(UTC)
        day += _ONE_DAY


def _offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Instants in the session where the zone's UTC offset changes (daylight saving)."""
    changes = []
    earlier = start
    while earlier < end:
        later = min(earlier + _ONE_DAY, end)
        if earlier.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            changes.append(_offset_change_between(zone, earlier, later))
        earlier = later
    return changes


def _offset_change_between(zone: ZoneInfo, earlier: datetime, later: datetime) -> datetime:
    # Offsets change on whole seconds: bisect over POSIX seconds.
    offset_before = earlier.astimezone(zone).utcoffset()
    low = math.floor(earlier.timestamp())
    high = math.ceil(later.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _cut_at_instants(nodes: list[_Node], instants: Sequence[datetime]) -> list[_Node]:
    """The nodes with one more at each instant, the register interpolated there."""
    if not instants:
        return nodes
    cut: list[_Node] = []
    upcoming = 0
    for before, after in pairwise(nodes):
        cut.append(before)
        while upcoming < len(instants) and instants[upcoming] <= before.at:
            upcoming += 1
        while upcoming < len(instants) and instants[upcoming] < after.at:
            moment = instants[upcoming]
            cut.append(_Node(moment, _interpolate(before, after, moment), before.state))
            upcoming += 1
    cut.append(nodes[-1])
    return cut


def _energy_thresholds(tariff: TariffSnapshot) -> list[Decimal]:
    """The min/max_kwh of the tariff, in Wh, in order."""
    thresholds = {
        kwh * _WH_PER_KWH
        for _, restrictions in _active_elements(tariff)
        for kwh in (restrictions.min_kwh, restrictions.max_kwh)
        if kwh is not None and kwh > 0
    }
    return sorted(thresholds)


def _cut_at_energies(nodes: list[_Node], thresholds: Sequence[Decimal]) -> list[_Node]:
    """The nodes with one more where the energy charged so far reaches each threshold."""
    if not thresholds:
        return nodes
    cut: list[_Node] = []
    upcoming = 0
    for before, after in pairwise(nodes):
        cut.append(before)
        while upcoming < len(thresholds) and thresholds[upcoming] <= before.energy_wh:
            upcoming += 1
        while upcoming < len(thresholds) and thresholds[upcoming] < after.energy_wh:
            threshold = thresholds[upcoming]
            moment = _moment_of_energy(before, after, threshold)
            if cut[-1].at < moment < after.at:  # thresholds a microsecond apart share a cut
                cut.append(_Node(moment, threshold, before.state))
            upcoming += 1
    cut.append(nodes[-1])
    return cut


def _moment_of_energy(before: _Node, after: _Node, energy_wh: Decimal) -> datetime:
    # Rounded up to the next microsecond, so the slice before it stays below the threshold.
    span = (after.at - before.at) // _MICROSECOND
    share = (energy_wh - before.energy_wh) / (after.energy_wh - before.energy_wh)
    offset = int((span * share).to_integral_value(ROUND_CEILING))
    return before.at + timedelta(microseconds=max(offset, 1))


# --- Matching restrictions.


@dataclass(frozen=True, slots=True, eq=False)
class _Candidate:
    """An element that prices one dimension; compared by identity."""

    element_index: int
    component: PriceComponent
    restrictions: Restrictions


def _candidates(tariff: TariffSnapshot) -> dict[Dimension, tuple[_Candidate, ...]]:
    """Per dimension, the elements that price it, in tariff order."""
    found: dict[Dimension, list[_Candidate]] = {dimension: [] for dimension in _PARTS}
    for index, restrictions in _active_elements(tariff):
        element = tariff.elements[index]
        for dimension in _PARTS:
            component = element.component(dimension)
            if component is not None:
                found[dimension].append(_Candidate(index, component, restrictions))
    return {dimension: tuple(candidates) for dimension, candidates in found.items()}


def _in_window(start: time | None, end: time | None, clock: time) -> bool:
    if start is None:
        return end is None or clock < end
    if end is None:
        return clock >= start
    if start < end:
        return start <= clock < end
    if start > end:  # spans midnight, e.g. 22:00-06:00
        return clock >= start or clock < end
    return True  # equal start and end: the whole day


def _in_range(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:  # unknown power or current cannot meet a bound
        return False
    return (low is None or value >= low) and (high is None or value < high)


def _holds_on_calendar(restrictions: Restrictions, local: datetime) -> bool:
    """Whether the time-of-day, date and day-of-week restrictions hold at a local time."""
    if not _in_window(restrictions.start_time, restrictions.end_time, local.time()):
        return False
    day = local.date()
    if restrictions.start_date is not None and day < restrictions.start_date:
        return False
    if restrictions.end_date is not None and day >= restrictions.end_date:
        return False
    return not restrictions.day_of_week or DayOfWeek.of(day) in restrictions.day_of_week


def _holds_in_session(restrictions: Restrictions, elapsed_s: Decimal, energy_wh: Decimal) -> bool:
    """Whether the duration and energy restrictions hold this far into the session."""
    kwh = energy_wh / _WH_PER_KWH
    return _in_range(kwh, restrictions.min_kwh, restrictions.max_kwh) and _in_range(
        elapsed_s, _optional(restrictions.min_duration), _optional(restrictions.max_duration)
    )


def _holds_for_state(restrictions: Restrictions, state: _State) -> bool:
    return _in_range(state.power_kw, restrictions.min_power, restrictions.max_power) and _in_range(
        state.current_a, restrictions.min_current, restrictions.max_current
    )


def _optional(number: int | None) -> Decimal | None:
    return None if number is None else Decimal(number)


@dataclass(frozen=True, slots=True)
class _SliceStart:
    """What restrictions are checked against: the situation where a slice starts."""

    local: datetime
    elapsed_s: Decimal
    node: _Node

    def first_match(self, candidates: Sequence[_Candidate]) -> _Candidate | None:
        for candidate in candidates:
            restrictions = candidate.restrictions
            if (
                _holds_on_calendar(restrictions, self.local)
                and _holds_in_session(restrictions, self.elapsed_s, self.node.energy_wh)
                and _holds_for_state(restrictions, self.node.state)
            ):
                return candidate
        return None


# --- Charging periods.


@dataclass(slots=True)
class _Period:
    """A charging period while slices are merged into it."""

    start: datetime
    end: datetime
    charging: bool
    energy: _Candidate | None
    time_like: _Candidate | None  # TIME while charging, PARKING_TIME while not
    flat: _Candidate | None
    energy_wh: Decimal
    seconds: Decimal

    def continues_with(
        self, charging: bool, energy: _Candidate | None, time_like: _Candidate | None
    ) -> bool:
        return self.charging == charging and self.energy is energy and self.time_like is time_like


def _periods(
    nodes: list[_Node],
    start: datetime,
    zone: ZoneInfo,
    candidates: dict[Dimension, tuple[_Candidate, ...]],
) -> list[_Period]:
    """The slices between consecutive nodes, matched and merged into charging periods."""
    slices = list(pairwise(nodes)) if len(nodes) > 1 else [(nodes[0], nodes[0])]
    periods: list[_Period] = []
    flat_charged = False
    for before, after in slices:
        slice_start = _SliceStart(before.at.astimezone(zone), _seconds(before.at - start), before)
        charging = before.state.charging
        energy = slice_start.first_match(candidates[Dimension.ENERGY])
        time_dimension = Dimension.TIME if charging else Dimension.PARKING_TIME
        time_like = slice_start.first_match(candidates[time_dimension])
        flat = None if flat_charged else slice_start.first_match(candidates[Dimension.FLAT])
        flat_charged = flat_charged or flat is not None
        energy_wh = after.energy_wh - before.energy_wh
        seconds = _seconds(after.at - before.at)
        if periods and periods[-1].continues_with(charging, energy, time_like):
            period = periods[-1]
            period.end = after.at
            period.energy_wh += energy_wh
            period.seconds += seconds
            period.flat = period.flat or flat
        else:
            periods.append(
                _Period(before.at, after.at, charging, energy, time_like, flat, energy_wh, seconds)
            )
    return periods


def _charging_period(period: _Period) -> ChargingPeriod:
    time_element = _index(period.time_like)
    return ChargingPeriod(
        start=period.start,
        end=period.end,
        charging=period.charging,
        energy_element=_index(period.energy),
        time_element=time_element if period.charging else None,
        parking_element=None if period.charging else time_element,
        flat_element=_index(period.flat),
        energy_wh=period.energy_wh,
        time_s=period.seconds if period.charging else _ZERO,
        parking_time_s=_ZERO if period.charging else period.seconds,
        flat=0 if period.flat is None else 1,
    )


def _index(candidate: _Candidate | None) -> int | None:
    return None if candidate is None else candidate.element_index


# --- Cost.


def _billed_volumes(periods: Sequence[_Period]) -> dict[_Candidate, Decimal]:
    """Each used component's volume over the session (Wh, s, sessions), step sizes applied."""
    volumes: dict[_Candidate, Decimal] = {}
    last_energy: _Candidate | None = None
    last_time_like: _Candidate | None = None
    for period in periods:
        if period.energy is not None and period.energy_wh > 0:
            volumes[period.energy] = volumes.get(period.energy, _ZERO) + period.energy_wh
            last_energy = period.energy
        if period.time_like is not None and period.seconds > 0:
            volumes[period.time_like] = volumes.get(period.time_like, _ZERO) + period.seconds
            last_time_like = period.time_like
        if period.flat is not None:
            volumes[period.flat] = _ONE
    for last in (last_energy, last_time_like):
        if last is not None:
            _round_up_to_step(volumes, last)
    return volumes


def _round_up_to_step(volumes: dict[_Candidate, Decimal], last: _Candidate) -> None:
    """Bill a dimension's session total in whole steps of its last component, the extra at
    that component's price."""
    dimension = last.component.dimension
    total = sum((v for c, v in volumes.items() if c.component.dimension is dimension), _ZERO)
    step = max(last.component.step_size, 1)
    billed = (total / step).to_integral_value(ROUND_CEILING) * step
    volumes[last] += billed - total


@dataclass(slots=True)
class _Part:
    """One cost part (energy, time, parking or fixed), exact, major units."""

    excl_vat: Decimal = _ZERO
    vat: Decimal = _ZERO


def _exact_costs(volumes: dict[_Candidate, Decimal]) -> dict[Dimension, _Part]:
    parts = {dimension: _Part() for dimension in _PARTS}
    for candidate, volume in volumes.items():
        component = candidate.component
        cost = volume * component.price / _UNIT_SIZE[component.dimension]
        part = parts[component.dimension]
        part.excl_vat += cost
        if component.vat is not None:
            part.vat += cost * component.vat / _HUNDRED
    return parts


def _clamp(value: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


def _fallback_vat(tariff: TariffSnapshot) -> Decimal | None:
    """The VAT rate for a minimum price with nothing else to pay: the first one in the tariff."""
    for index, _ in _active_elements(tariff):
        for component in tariff.elements[index].price_components:
            if component.vat is not None:
                return component.vat
    return None


def _limit_excl_vat(limit: Price | None) -> Decimal | None:
    return None if limit is None else limit.excl_vat


def _limit_incl_vat(limit: Price | None) -> Decimal | None:
    return None if limit is None else limit.incl_vat


def _apply_limits(tariff: TariffSnapshot, parts: dict[Dimension, _Part]) -> PriceLimit | None:
    """Clamp the total to the tariff's minimum and maximum price, excl. and incl. VAT."""
    low, high = tariff.min_price, tariff.max_price
    limit: PriceLimit | None = None
    exact = sum((part.excl_vat for part in parts.values()), _ZERO)
    bounded = _clamp(exact, _limit_excl_vat(low), _limit_excl_vat(high))
    if bounded != exact:
        limit = PriceLimit.MINIMUM if bounded > exact else PriceLimit.MAXIMUM
        if exact > 0:
            for part in parts.values():
                part.excl_vat = part.excl_vat * bounded / exact
                part.vat = part.vat * bounded / exact
        else:
            fixed = parts[Dimension.FLAT]
            fixed.excl_vat = bounded
            fixed.vat = bounded * (_fallback_vat(tariff) or _ZERO) / _HUNDRED
    vat = sum((part.vat for part in parts.values()), _ZERO)
    incl = bounded + vat
    bounded_incl = max(_clamp(incl, _limit_incl_vat(low), _limit_incl_vat(high)), bounded)
    if bounded_incl != incl:
        limit = limit or (PriceLimit.MINIMUM if bounded_incl > incl else PriceLimit.MAXIMUM)
        if vat > 0:
            for part in parts.values():
                part.vat = part.vat * (bounded_incl - bounded) / vat
        else:
            parts[Dimension.FLAT].vat = bounded_incl - bounded
    return limit


# Scaling parts to a minimum or maximum price divides, which leaves noise in the 40th digit
# (6.5449999...9 for 6.545): amounts are settled to this before the one real rounding.
_NOISE = Decimal("1e-12")


def _round_half_up(amount_minor: Decimal) -> int:
    settled = amount_minor.quantize(_NOISE, ROUND_HALF_EVEN)
    return int(settled.to_integral_value(ROUND_HALF_UP))


def _allocate(total: int, exact: Sequence[Decimal]) -> list[int]:
    """Whole units per part that add up to `total`, by largest remainder (the total was rounded
    from the sum of the parts, so what is left over after flooring is at most one per part)."""
    floors = [int(amount.to_integral_value(ROUND_FLOOR)) for amount in exact]
    left_over = total - sum(floors)
    by_fraction = sorted(range(len(exact)), key=lambda i: exact[i] - floors[i], reverse=True)
    for index in by_fraction[:left_over]:
        floors[index] += 1
    return floors


def _rounded(parts: dict[Dimension, _Part], currency: str) -> tuple[list[Cost], Cost]:
    """The parts and the total in minor units: see "Rounding" in the module docstring."""
    exponent = minor_unit_exponent(currency)
    excl = [parts[dimension].excl_vat.scaleb(exponent) for dimension in _PARTS]
    vat = [parts[dimension].vat.scaleb(exponent) for dimension in _PARTS]
    total_excl = _round_half_up(sum(excl, _ZERO))
    total_incl = _round_half_up(sum(excl, _ZERO) + sum(vat, _ZERO))
    excl_minor = _allocate(total_excl, excl)
    vat_minor = _allocate(total_incl - total_excl, vat)
    costs = [Cost(e, e + v) for e, v in zip(excl_minor, vat_minor, strict=True)]
    return costs, Cost(total_excl, total_incl)


def _breakdown(
    tariff: TariffSnapshot, start: datetime, end: datetime, periods: Sequence[_Period]
) -> PriceBreakdown:
    parts = _exact_costs(_billed_volumes(periods))
    limit = _apply_limits(tariff, parts)
    (energy, time_, parking, fixed), total = _rounded(parts, tariff.currency)
    charging_periods = tuple(_charging_period(period) for period in periods)
    return PriceBreakdown(
        currency=tariff.currency,
        start=start,
        end=end,
        periods=charging_periods,
        total_energy_wh=sum((p.energy_wh for p in charging_periods), _ZERO),
        total_time_s=_seconds(end - start),
        total_charging_time_s=sum((p.time_s for p in charging_periods), _ZERO),
        total_parking_time_s=sum((p.parking_time_s for p in charging_periods), _ZERO),
        energy_cost=energy,
        time_cost=time_,
        parking_cost=parking,
        fixed_cost=fixed,
        total_cost=total,
        limit_applied=limit,
    )


# --- Prices in words.


def _open_conditions(
    restrictions: Restrictions, power_kw: Decimal | None, current_a: Decimal | None
) -> list[str] | None:
    """What must still happen for an element to apply, in words; None if it cannot apply."""
    conditions: list[str] = []
    for value, low, high, unit in (
        (power_kw, restrictions.min_power, restrictions.max_power, "kW"),
        (current_a, restrictions.min_current, restrictions.max_current, "A"),
    ):
        if value is None:
            conditions.extend(_range_words(low, high, unit))
        elif not _in_range(value, low, high):
            return None
    conditions.extend(
        _progress_words(
            restrictions.min_kwh, restrictions.max_kwh, lambda kwh: f"{_plain(kwh)} kWh"
        )
    )
    conditions.extend(
        _progress_words(
            _optional(restrictions.min_duration),
            _optional(restrictions.max_duration),
            lambda seconds: _duration_words(int(seconds)),
        )
    )
    return conditions


def _range_words(low: Decimal | None, high: Decimal | None, unit: str) -> list[str]:
    if low is not None and high is not None:
        return [f"from {_plain(low)} to {_plain(high)} {unit}"]
    if low is not None:
        return [f"at {_plain(low)} {unit} or more"]
    if high is not None:
        return [f"below {_plain(high)} {unit}"]
    return []


def _progress_words(
    low: Decimal | None, high: Decimal | None, words: Callable[[Decimal], str]
) -> list[str]:
    """How far into the session an element applies: "after 4 h", "for the first 1 kWh"."""
    low = low if low else None  # from zero is no condition
    if low is not None and high is not None:
        return [f"from {words(low)} to {words(high)}"]
    if low is not None:
        return [f"after {words(low)}"]
    if high is not None:
        return [f"for the first {words(high)}"]
    return []


def _duration_words(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    words = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (seconds, "s")) if n]
    return " ".join(words) or "0 s"


def _plain(number: Decimal) -> str:
    """A number without trailing zeros or exponent: 19.0 -> "19", 5.20 -> "5.2"."""
    return format(number.normalize(), "f")


def _unit_price(amount: Decimal, currency: str) -> str:
    """A price per unit with the currency's decimals, more when they matter, at most four."""
    shown = amount.quantize(Decimal(1).scaleb(-_MOST_DECIMALS_SHOWN), ROUND_HALF_UP)
    exponent = shown.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) else 0
    return f"{shown:.{max(decimals, minor_unit_exponent(currency))}f}"


def _money(amount: Decimal, currency: str) -> str:
    exponent = minor_unit_exponent(currency)
    return f"{amount.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP)}"


def _incl_vat(price: Decimal, vat: Decimal | None) -> Decimal:
    return price if vat is None else price * (_ONE + vat / _HUNDRED)


def _applicable(
    dimension: Dimension, candidate: _Candidate, conditions: list[str], currency: str
) -> ApplicableComponent:
    component = candidate.component
    price_incl_vat = _incl_vat(component.price, component.vat)
    words = [f"{_unit_price(price_incl_vat, currency)} {currency} {_UNIT_WORDS[dimension]}"]
    words.append("(no VAT)" if component.vat is None else f"incl. {_plain(component.vat)}% VAT")
    words.extend(conditions)
    end_time = candidate.restrictions.end_time
    if end_time is not None:
        words.append(f"until {end_time:%H:%M}")
    description = " ".join(words)
    step = component.step_size
    if step > 1 and dimension is Dimension.ENERGY:
        description += f", billed per {_plain(Decimal(step) / _WH_PER_KWH)} kWh"
    elif step > 1 and dimension in (Dimension.TIME, Dimension.PARKING_TIME):
        description += f", billed per {_duration_words(step)}"
    return ApplicableComponent(
        dimension=dimension,
        element_index=candidate.element_index,
        component=component,
        price_incl_vat=price_incl_vat,
        conditions=tuple(conditions),
        description=description,
    )


def _limit_notes(tariff: TariffSnapshot) -> tuple[str, ...]:
    """The session's minimum and maximum price in words, incl. VAT where the tariff has VAT."""
    notes = []
    fallback_vat = _fallback_vat(tariff)
    for words, limit in (("at least", tariff.min_price), ("at most", tariff.max_price)):
        if limit is None:
            continue
        incl_vat = limit.incl_vat
        if incl_vat is None:
            incl_vat = _incl_vat(limit.excl_vat, fallback_vat)
        has_vat = limit.incl_vat is not None or fallback_vat is not None
        amount = f"{_money(incl_vat, tariff.currency)} {tariff.currency}"
        notes.append(f"a session costs {words} {amount} {'incl. VAT' if has_vat else '(no VAT)'}")
    return tuple(notes)
