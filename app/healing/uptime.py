"""How much of the time a charging port could be used: uptime as US NEVI defines it.

Pure logic: no I/O and no clock. The caller passes one port's status reports, the periods its
station was offline, the maintenance windows that apply to the port (the port's own and its
station's), and the period to measure. Every datetime must be timezone-aware; results are UTC.

NEVI (23 CFR 680.116(b)) asks for more than 97% uptime per port, calculated monthly over the
previous 12 months, in minutes:

    µ = ((525,600 - (T_outage - T_excluded)) / 525,600) * 100

Here it is generalized to any period, T_period being the time observed in that period:

    µ = (T_observed - (T_outage - T_excluded)) / T_observed * 100

For a port observed through a whole year T_observed is 525,600 minutes and this is NEVI's
figure exactly; for a port commissioned in March, or a single day, it is the share of the time
the port could be judged, instead of a figure diluted or depressed by time before it existed.

The port's state at each instant, first rule that applies:

1. Before its first known status (anything but Unknown) the port is not yet commissioned: not
   observed, counted neither as uptime nor as outage, even if its station was offline.
2. While its station is offline (disconnected), outage, whatever the port last reported: a
   driver cannot start a session that the CPMS cannot authorize or see.
3. Otherwise its last reported status: operative (available or in use: Available, Preparing,
   Charging, SuspendedEV, SuspendedEVSE, Finishing, Reserved, and 2.0.1's Occupied) or outage
   (Faulted, Unavailable). An Unknown reported later is not observed either: we neither credit
   nor blame time we know nothing about (disconnection is what the offline periods are for).

T_excluded is the outage that falls inside a maintenance window, so an overlap between a window
and working time excludes nothing and a window can never lower uptime. Overlaps are counted
once: an offline period during a Faulted status, or two overlapping windows, add no time twice.

Reports need not be sorted. A report at the period start is in effect from the start; reports
at the same instant apply in the order given, so the last of them is the one in effect. Times
are exact to the microsecond and the percentage is rounded once, half up, to 2 decimals.

The NEVI figure (`rolling_twelve_months`) is taken over the 525,600 minutes (365 days of 24 h)
before now, the length the rule divides by, rather than 12 calendar months (365 or 366 days);
"monthly" is when the caller runs it. A site's figure (`site_availability`) sums its ports'
times, so it is the ports' uptime weighted by how long each was observed; NEVI judges each port
on its own, the site figure is for operators.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from itertools import pairwise
from zoneinfo import ZoneInfo

OPERATIVE_STATUSES = frozenset(
    {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Reserved",
        "Occupied",
    }
)
OUTAGE_STATUSES = frozenset({"Faulted", "Unavailable"})
UNKNOWN_STATUS = "Unknown"
# NEVI's year: the 525,600 minutes its formula divides by.
NEVI_YEAR = timedelta(minutes=525_600)

_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A port's status as reported at an instant (OCPP StatusNotification)."""

    at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Interval:
    """A period from `start` (included) to `end` (excluded)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Availability:
    """A port's (or site's) time in a period, in seconds exact to the microsecond."""

    start: datetime
    end: datetime
    observed_s: Decimal  # operative_s + outage_s: time with a known state
    operative_s: Decimal
    outage_s: Decimal
    excluded_outage_s: Decimal  # the part of outage_s inside maintenance windows
    uptime_percent: Decimal | None  # None when nothing was observed

    @property
    def counted_outage_s(self) -> Decimal:
        """The outage NEVI counts against the port: T_outage - T_excluded."""
        return self.outage_s - self.excluded_outage_s


@dataclass(frozen=True, slots=True)
class DayAvailability:
    """A port's availability on one calendar day of its site."""

    day: date
    availability: Availability


def port_availability(
    changes: Iterable[StatusReport],
    offline: Iterable[Interval],
    excluded: Iterable[Interval],
    start: datetime,
    end: datetime,
) -> Availability:
    """A port's operative, outage and excluded time from `start` to `end`, and its uptime."""
    history = _history(changes, offline, excluded)
    return history.measure(_utc(start, "the period start"), _utc(end, "the period end"))


def daily_availability(
    changes: Iterable[StatusReport],
    offline: Iterable[Interval],
    excluded: Iterable[Interval],
    start_day: date,
    end_day: date,
    time_zone: str,
) -> list[DayAvailability]:
    """A port's availability per calendar day in the site's time zone, both days included.

    Days run from local midnight to local midnight, so a daylight-saving day lasts 23 or 25 h.
    """
    if end_day < start_day:
        raise ValueError("the last day cannot come before the first")
    zone = ZoneInfo(time_zone)
    history = _history(changes, offline, excluded)
    days = [start_day + timedelta(days=n) for n in range((end_day - start_day).days + 2)]
    # A midnight that daylight saving skips resolves to the first instant of that day.
    midnights = [datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) for day in days]
    return [
        DayAvailability(day, history.measure(day_start, day_end))
        for day, (day_start, day_end) in zip(days[:-1], pairwise(midnights), strict=True)
    ]


def rolling_twelve_months(
    changes: Iterable[StatusReport],
    offline: Iterable[Interval],
    excluded: Iterable[Interval],
    now: datetime,
) -> Availability:
    """A port's NEVI uptime: the 525,600 minutes (365 days) before `now`."""
    end = _utc(now, "now")
    return _history(changes, offline, excluded).measure(end - NEVI_YEAR, end)


def site_availability(ports: Sequence[Availability]) -> Availability:
    """A site's availability from its ports', weighted by how long each port was observed."""
    if not ports:
        raise ValueError("a site's availability needs at least one port")
    operative = sum(_micros(port.operative_s) for port in ports)
    outage = sum(_micros(port.outage_s) for port in ports)
    excluded_outage = sum(_micros(port.excluded_outage_s) for port in ports)
    return _availability(
        min(port.start for port in ports),
        max(port.end for port in ports),
        operative,
        outage,
        excluded_outage,
    )


class _State(Enum):
    OPERATIVE = "operative"
    OUTAGE = "outage"
    UNOBSERVED = "unobserved"


@dataclass(frozen=True, slots=True)
class _History:
    """A port's inputs prepared once, to measure any number of periods."""

    report_times: list[datetime]  # sorted
    report_states: list[_State]  # the state each report puts the port in
    commissioned_at: datetime | None  # the first known status, None if never known
    # Starts and ends of the merged (disjoint, non-touching) intervals, in order: an instant
    # is inside one when an odd number of edges are at or before it.
    offline_edges: list[datetime]
    excluded_edges: list[datetime]

    def measure(self, start: datetime, end: datetime) -> Availability:
        if end < start:
            raise ValueError("a period cannot end before it starts")
        # Every input is constant between these cuts, so each piece takes one state.
        cuts = sorted(
            {
                start,
                end,
                *_strictly_between(self.report_times, start, end),
                *_strictly_between(self.offline_edges, start, end),
                *_strictly_between(self.excluded_edges, start, end),
            }
        )
        micros = dict.fromkeys(_State, 0)
        excluded_outage = 0
        for piece_start, piece_end in pairwise(cuts):
            state = self._state_at(piece_start)
            length = (piece_end - piece_start) // _MICROSECOND
            micros[state] += length
            if state is _State.OUTAGE and _inside(self.excluded_edges, piece_start):
                excluded_outage += length
        return _availability(
            start, end, micros[_State.OPERATIVE], micros[_State.OUTAGE], excluded_outage
        )

    def _state_at(self, moment: datetime) -> _State:
        if self.commissioned_at is None or moment < self.commissioned_at:
            return _State.UNOBSERVED
        if _inside(self.offline_edges, moment):
            return _State.OUTAGE
        # Commissioned, so at least one report is at or before this moment.
        return self.report_states[bisect_right(self.report_times, moment) - 1]


def _history(
    changes: Iterable[StatusReport], offline: Iterable[Interval], excluded: Iterable[Interval]
) -> _History:
    # sorted() is stable: reports at the same instant keep their order, the last one wins.
    reports = sorted(
        ((_utc(change.at, "a status time"), _state(change.status)) for change in changes),
        key=lambda report: report[0],
    )
    commissioned_at = next((at for at, state in reports if state is not _State.UNOBSERVED), None)
    return _History(
        report_times=[at for at, _ in reports],
        report_states=[state for _, state in reports],
        commissioned_at=commissioned_at,
        offline_edges=_merged_edges(offline, "an offline period"),
        excluded_edges=_merged_edges(excluded, "a maintenance window"),
    )


def _state(status: str) -> _State:
    if status in OPERATIVE_STATUSES:
        return _State.OPERATIVE
    if status in OUTAGE_STATUSES:
        return _State.OUTAGE
    if status == UNKNOWN_STATUS:
        return _State.UNOBSERVED
    # Guessing would silently move time between uptime and outage.
    raise ValueError(f"not an OCPP connector status: {status!r}")


def _merged_edges(intervals: Iterable[Interval], name: str) -> list[datetime]:
    spans = sorted((_utc(i.start, name), _utc(i.end, name)) for i in intervals)
    edges: list[datetime] = []
    for start, end in spans:
        if end < start:
            raise ValueError(f"{name} cannot end before it starts")
        if start == end:
            continue
        # Overlapping or touching: extend the last interval, so edges stay strictly increasing.
        if edges and start <= edges[-1]:
            edges[-1] = max(edges[-1], end)
        else:
            edges += [start, end]
    return edges


def _inside(edges: list[datetime], moment: datetime) -> bool:
    return bisect_right(edges, moment) % 2 == 1


def _strictly_between(points: list[datetime], start: datetime, end: datetime) -> list[datetime]:
    return points[bisect_right(points, start) : bisect_left(points, end)]


def _availability(
    start: datetime, end: datetime, operative_us: int, outage_us: int, excluded_outage_us: int
) -> Availability:
    observed_us = operative_us + outage_us
    return Availability(
        start=start,
        end=end,
        observed_s=_seconds(observed_us),
        operative_s=_seconds(operative_us),
        outage_s=_seconds(outage_us),
        excluded_outage_s=_seconds(excluded_outage_us),
        uptime_percent=_uptime_percent(observed_us, outage_us - excluded_outage_us),
    )


def _uptime_percent(observed_us: int, counted_outage_us: int) -> Decimal | None:
    if observed_us == 0:
        return None
    # ROUND_HALF_UP to hundredths, in whole microseconds so that it is exact.
    hundredths, remainder = divmod((observed_us - counted_outage_us) * 10_000, observed_us)
    if 2 * remainder >= observed_us:
        hundredths += 1
    return Decimal(hundredths).scaleb(-2)


def _micros(seconds: Decimal) -> int:
    return int(seconds * _MICROSECONDS_PER_SECOND)


def _seconds(micros: int) -> Decimal:
    return Decimal(micros) / _MICROSECONDS_PER_SECOND


def _utc(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)
