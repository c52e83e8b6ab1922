"""How a site's grid connection is shared among the EVs charging at it.

Pure logic: no I/O and no clock. The caller describes the site's fuses and the EVSEs that are
charging; `allocate` answers each EVSE's current limit per phase, in amperes.

The model:

- A `Fuse` is a protective device with a limit per phase. The site's grid connection is the
  root; sub-circuits are its children, to any depth. An EVSE hangs on one fuse and so loads
  that fuse and every fuse above it.
- A `Demand` is an EVSE with a session: which grid phases it loads (after the EVSE's phase
  rotation; a single-phase EV loads one), the least current it may be offered (below it, it is
  paused at 0: IEC 61851 EVs do not charge under 6 A), the most it can take, its priority, and
  what it was last offered and has drawn since. A demand with `fixed_a` is not moved: a
  station that went offline keeps its last limit, one that refused a profile may draw its max.

How limits are chosen (`allocate`):

1. Fixed demands take their current first.
2. Admission: in turn (by priority under `LoadBalancing.PRIORITY`, then in the order given, so the
   caller puts earlier sessions first and a charging EV is not paused for a newcomer), each
   demand is given its minimum if that fits under every fuse it loads, on each of its phases;
   otherwise it is paused at 0. Never a share below the minimum.
3. Filling, max-min fair per phase (water filling): the admitted demands with the lowest limit
   are raised together until one reaches what it can use, meets the next limit up, or a fuse
   phase it loads is full; that one stops, the others go on. Under `LoadBalancing.PRIORITY` each
   priority level is filled to the top before the next one gets anything more than its
   minimum. What a demand can use is its max, or, when it has drawn well under what it was
   offered (the EV takes less: a full battery, a slow on-board charger), what it draws plus a
   little room to rise; the rest goes to the others.

Currents are counted in tenths of an ampere, the precision OCPP limits carry, so that sums are
exact: capacities and maximums round down, minimums and draws round up. A tenth left over from
an even split goes to the first demands in order, so no fuse phase keeps capacity while an EV
under it wants more.

`limit_changes` turns a new allocation into what to send: every decrease, and increases of at
least a step (hysteresis, so that small changes do not flood stations with profiles).
Decreases go first: the sum of the limits in force stays under every fuse while the new limits
are being installed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from app.stations.grid import LoadBalancing

TENTH = Decimal("0.1")
# An EV drawing this much less than it was offered is taking all it wants...
DRAW_SLACK_A = Decimal(2)
# ...and is offered what it draws plus this, so that a rising draw shows in the meter values.
DRAW_HEADROOM_A = Decimal(1)
# An increase smaller than this is not sent (a decrease always is).
DEFAULT_STEP_A = Decimal(1)

Constraint = tuple[str, int]  # (fuse id, grid phase)


@dataclass(frozen=True, slots=True)
class Fuse:
    """A limit per phase, in amperes, and the fuses beneath it."""

    id: str
    limit_a: Decimal
    children: tuple[Fuse, ...] = ()


@dataclass(frozen=True, slots=True)
class Demand:
    """An EVSE with a session, as the allocation sees it. Currents in amperes per phase."""

    key: Hashable
    fuse_id: str
    phases: frozenset[int]  # grid phases loaded: 0 = L1, 1 = L2, 2 = L3
    min_a: Decimal = Decimal(6)
    max_a: Decimal = Decimal(32)
    priority: int = 0  # higher first, under LoadBalancing.PRIORITY
    offered_a: Decimal | None = None  # the limit in force now, if any
    drawn_a: Decimal | None = None  # the highest phase current measured under it
    fixed_a: Decimal | None = None  # not to be changed (offline, or refused its profile)


@dataclass(frozen=True, slots=True)
class LimitChanges:
    """What to send, decreases first, and the limits in force once it is installed."""

    decreases: dict[Hashable, Decimal]
    increases: dict[Hashable, Decimal]
    in_force: dict[Hashable, Decimal]


def _tenths(amperes: Decimal, rounding: str) -> int:
    return int((Decimal(amperes) / TENTH).to_integral_value(rounding=rounding))


def usable_a(demand: Demand) -> Decimal:
    """The most current worth offering: its max, or less when the EV draws well under what it
    was offered."""
    ceiling = demand.max_a
    offered, drawn = demand.offered_a, demand.drawn_a
    if offered is not None and drawn is not None and drawn <= offered - DRAW_SLACK_A:
        ceiling = min(ceiling, drawn + DRAW_HEADROOM_A)
    return max(ceiling, demand.min_a)


def _ancestry(root: Fuse) -> dict[str, tuple[str, ...]]:
    """Each fuse's id with the ids of the fuses above it, itself first."""
    paths: dict[str, tuple[str, ...]] = {}
    pending: list[tuple[Fuse, tuple[str, ...]]] = [(root, ())]
    while pending:
        fuse, above = pending.pop()
        if fuse.id in paths:
            raise ValueError(f"fuse {fuse.id!r} appears twice")
        paths[fuse.id] = (fuse.id, *above)
        pending.extend((child, paths[fuse.id]) for child in fuse.children)
    return paths


def _limits(root: Fuse) -> dict[str, int]:
    limits: dict[str, int] = {}
    pending = [root]
    while pending:
        fuse = pending.pop()
        limits[fuse.id] = max(0, _tenths(fuse.limit_a, ROUND_FLOOR))
        pending.extend(fuse.children)
    return limits


@dataclass(slots=True)
class _Filling:
    """The working state of one allocation, in tenths of an ampere."""

    slack: dict[Constraint, int]
    loads: dict[Hashable, tuple[Constraint, ...]]
    level: dict[Hashable, int] = field(default_factory=dict)

    def fits(self, key: Hashable, tenths: int) -> bool:
        return all(self.slack[constraint] >= tenths for constraint in self.loads[key])

    def raise_by(self, key: Hashable, tenths: int) -> None:
        self.level[key] = self.level.get(key, 0) + tenths
        for constraint in self.loads[key]:
            self.slack[constraint] -= tenths

    def fill(self, keys: Sequence[Hashable], ceiling: Mapping[Hashable, int]) -> None:
        """Raise `keys` max-min fairly until each is at its ceiling or under a full fuse phase."""
        rising = [key for key in keys if self.level[key] < ceiling[key] and self.fits(key, 1)]
        while rising:
            lowest = min(self.level[key] for key in rising)
            group = [key for key in rising if self.level[key] == lowest]
            # Up to the next level above, the nearest ceiling, or the fullest fuse phase.
            bounds = [self.level[key] for key in rising if self.level[key] > lowest]
            bounds.extend(ceiling[key] for key in group)
            step = min(bounds) - lowest
            sharing: dict[Constraint, int] = {}
            for key in group:
                for constraint in self.loads[key]:
                    sharing[constraint] = sharing.get(constraint, 0) + 1
            for constraint, count in sharing.items():
                step = min(step, self.slack[constraint] // count)
            if step > 0:
                for key in group:
                    self.raise_by(key, step)
            else:
                # A fuse phase has fewer tenths left than demands sharing it: one each, in order.
                for key in group:
                    if self.fits(key, 1):
                        self.raise_by(key, 1)
            rising = [key for key in rising if self.level[key] < ceiling[key] and self.fits(key, 1)]


def allocate(
    site: Fuse, demands: Sequence[Demand], strategy: LoadBalancing = LoadBalancing.EQUAL
) -> dict[Hashable, Decimal]:
    """Each demand's limit in amperes per phase, to the tenth: 0 (paused), or between its
    minimum and what it can use; a fixed demand keeps its `fixed_a`."""
    paths = _ancestry(site)
    limits = _limits(site)
    loads: dict[Hashable, tuple[Constraint, ...]] = {}
    for demand in demands:
        if demand.fuse_id not in paths:
            raise ValueError(f"no fuse {demand.fuse_id!r} at this site")
        if not demand.phases:
            raise ValueError(f"{demand.key!r} loads no phase")
        if demand.key in loads:
            raise ValueError(f"{demand.key!r} is given twice")
        loads[demand.key] = tuple(
            (fuse_id, phase) for fuse_id in paths[demand.fuse_id] for phase in sorted(demand.phases)
        )
    slack = {
        constraint: limits[constraint[0]]
        for constraints in loads.values()
        for constraint in constraints
    }
    filling = _Filling(slack, loads)

    moving: list[Demand] = []
    for demand in demands:
        if demand.fixed_a is None:
            moving.append(demand)
        else:
            filling.raise_by(demand.key, max(0, _tenths(demand.fixed_a, ROUND_CEILING)))
    if strategy == LoadBalancing.PRIORITY:
        moving.sort(key=lambda demand: -demand.priority)  # stable: the given order within one

    ceiling: dict[Hashable, int] = {}
    admitted: list[Demand] = []
    for demand in moving:
        minimum = _tenths(demand.min_a, ROUND_CEILING)
        filling.level[demand.key] = 0
        if minimum > 0 and not filling.fits(demand.key, minimum):
            continue
        filling.raise_by(demand.key, max(0, minimum))
        ceiling[demand.key] = _tenths(usable_a(demand), ROUND_FLOOR)
        admitted.append(demand)

    for group in _fill_order(admitted, strategy):
        filling.fill([demand.key for demand in group], ceiling)
    return {key: Decimal(tenths) * TENTH for key, tenths in filling.level.items()}


def _fill_order(admitted: Sequence[Demand], strategy: LoadBalancing) -> Iterable[list[Demand]]:
    if strategy == LoadBalancing.EQUAL:
        yield list(admitted)
        return
    for priority in sorted({demand.priority for demand in admitted}, reverse=True):
        yield [demand for demand in admitted if demand.priority == priority]


def limit_changes(
    in_force: Mapping[Hashable, Decimal],
    allocated: Mapping[Hashable, Decimal],
    step_a: Decimal = DEFAULT_STEP_A,
) -> LimitChanges:
    """What to send to move from the limits in force to an allocation: every decrease (and a
    first limit, which is a decrease from none), and each increase of at least `step_a`. A
    smaller increase is not sent; the lower limit stays in force, which keeps every fuse safe."""
    decreases: dict[Hashable, Decimal] = {}
    increases: dict[Hashable, Decimal] = {}
    kept: dict[Hashable, Decimal] = {}
    for key, limit in allocated.items():
        current = in_force.get(key)
        if current is None or limit < current:
            decreases[key] = limit
        elif limit - current >= step_a:
            increases[key] = limit
        else:
            kept[key] = current
    return LimitChanges(decreases, increases, {**kept, **decreases, **increases})
