"""Site load balancing: the EVs charging at a site share what it may draw, and each charging
EVSE is told its share as a charging profile.

Every round (CPMS_BALANCING_INTERVAL_S) looks at each limited site: one with a grid capacity,
a demand response event, or an EVSE still holding a limit from before. Its capacity now is
the lower of its grid capacity and the events in force (`capacity.py`); the EVs with a running
session share it (`allocation.py`, earliest session first, equal shares or by priority as the
site says). Each EVSE whose limit changes gets a SetChargingProfile through the command log:
a TxProfile for its transaction, Relative, in amperes, at SITE_LIMIT_STACK_LEVEL (above a
roaming partner's limit, so that no other TxProfile lifts it). Decreases go first; increases
only once every decrease is accepted, so the limits in force never add up to more than the
site may draw. A site left with nothing limiting it has its EVSEs raised to their maximum.

Every connected station at a limited site also holds a TxDefaultProfile (EVSE 0), which holds
a session the CPMS has not limited yet (it started since the last round, or while its station
was offline): what the running sessions leave of the site's capacity, split evenly over its
idle EVSEs, 0 when that is under the site's minimum current. So a new session never takes
more than was kept for it; it waits for its own limit at the next round. A lower default goes
with the decreases, a higher one with the increases; a missing one, or one a station may have
lost by booting since, is sent with the decreases; it is lifted once nothing limits the site.

What the station accepted is the limit in force (kept with its profiles). A station that is
offline is counted as drawing what it was last allowed (its maximum, if it has no limit from
us), and one that refused its profile as drawing its maximum, until it is asked again after
RETRY_REFUSED (the refusal raises an alert). Rounds run on the node holding the job's lease,
CONCURRENCY sites at once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import ClearChargingProfile, Command, SetChargingProfile
from app.errors import CPMSError
from app.smart_charging import repository
from app.smart_charging.allocation import Demand, Fuse, allocate, limit_changes
from app.smart_charging.capacity import capacity_at
from app.smart_charging.models import (
    SMART_CHARGING_ACTOR,
    ChargingEvse,
    DefaultLimit,
    HeldLimits,
    SiteGrid,
    SiteStation,
)
from app.stations.grid import MAX_GRID_CAPACITY_A, TENTH_A, LoadBalancing
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# Above a roaming partner's TxProfile (stack level 5): within one purpose the highest valid
# stack level is the one a station applies.
SITE_LIMIT_STACK_LEVEL = 6
# chargingProfileId = this + the EVSE number (a TxProfile: one per EVSE, each new one replacing
# the last) or this alone (the station's TxDefaultProfile), far from the ids of profiles set by
# hand or by partners (a session's id).
SITE_PROFILE_ID_BASE = 2_000_000_000
# An EVSE whose connector says nothing of its maximum current.
DEFAULT_MAX_CURRENT_A = Decimal(32)
RETRY_REFUSED = timedelta(minutes=10)
CONCURRENCY = 16
SITE = "site"


class SiteBalancing:
    def __init__(self, gateway: ChargerGateway, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._gateway = gateway
        self._unit_of_work = unit_of_work
        # (station, EVSE) -> the session (transaction, start) whose limit the station refused,
        # and when.
        self._refused: dict[tuple[int, int], tuple[tuple[str, datetime], datetime]] = {}
        # Station -> when it did not take its default limit (or its removal).
        self._failed_defaults: dict[int, datetime] = {}

    async def round(self) -> None:
        now = utcnow()
        sites = await repository.limited_sites(now)
        if not sites:
            return
        site_ids = [site.site_id for site in sites]
        evses = await repository.charging_evses(site_ids)
        stations = await repository.stations_at_sites(site_ids)
        held = await repository.held_limits([station.station_id for station in stations])
        evses_at: dict[int, list[ChargingEvse]] = defaultdict(list)
        for evse in evses:
            evses_at[evse.site_id].append(evse)
        stations_at: dict[int, list[SiteStation]] = defaultdict(list)
        for station in stations:
            stations_at[station.site_id].append(station)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def balance(site: SiteGrid) -> None:
            async with slots:
                try:
                    await self.balance(
                        site,
                        evses_at[site.site_id],
                        stations_at[site.site_id],
                        held,
                        now,
                    )
                except Exception:
                    logger.exception("balancing site %s failed", site.site_id)

        await asyncio.gather(*(balance(site) for site in sites))

    async def balance(
        self,
        site: SiteGrid,
        evses: Sequence[ChargingEvse],
        stations: Sequence[SiteStation],
        held: HeldLimits,
        now: datetime,
    ) -> None:
        """Share the site's capacity now among the sessions running at `evses`, keep the rest
        for its idle EVSEs, and send what changed: every decrease first, then the rest."""
        capacity = capacity_at(site.grid_capacity_a, site.events, now)
        phases = frozenset({0}) if site.grid_phases == 1 else frozenset({0, 1, 2})
        connected = {station.station_id for station in stations if station.connected}
        current: dict[Hashable, Decimal] = {}
        demands: list[Demand] = []
        for evse in evses:
            maximum = evse.max_current_a or DEFAULT_MAX_CURRENT_A
            partner = partner_limit(held, evse)
            if partner is not None:
                maximum = max(Decimal(0), min(maximum, partner))
            limit = session_limit(held, evse)
            if limit is not None:
                current[evse.key] = limit
            fixed = None
            if evse.station_id not in connected:
                fixed = maximum if limit is None else limit
            elif self._refused_lately(evse, now):
                fixed = maximum
            demands.append(
                Demand(
                    evse.key,
                    SITE,
                    phases,
                    min_a=site.min_current_a,
                    max_a=maximum,
                    offered_a=limit,
                    fixed_a=fixed,
                )
            )
        # Nothing limits the site any more: each EVSE goes back to its maximum.
        root = Fuse(SITE, Decimal(MAX_GRID_CAPACITY_A) if capacity is None else capacity)
        allocated = allocate(root, demands, LoadBalancing(site.load_balancing))
        movable = {
            demand.key: allocated[demand.key] for demand in demands if demand.fixed_a is None
        }
        changes = limit_changes({key: current[key] for key in current if key in movable}, movable)
        idle = sum(station.evses for station in stations) - len(evses)
        share = idle_share(capacity, sum(allocated.values(), Decimal(0)), idle, site.min_current_a)
        lower, higher = self._default_changes(stations, held.defaults, share, now)

        by_key: dict[Hashable, ChargingEvse] = {evse.key: evse for evse in evses}
        count = len(phases)
        first = [
            self._limit(by_key[key], limit, count, now) for key, limit in changes.decreases.items()
        ]
        first += [self._default(station, share, count, now) for station in lower]
        if not all(await asyncio.gather(*first)):
            return  # what was not lowered may still draw what it did: nothing is raised
        then = [
            self._limit(by_key[key], limit, count, now) for key, limit in changes.increases.items()
        ]
        then += [self._default(station, share, count, now) for station in higher]
        await asyncio.gather(*then)

    def _default_changes(
        self,
        stations: Sequence[SiteStation],
        defaults: Mapping[int, DefaultLimit],
        share: Decimal | None,
        now: datetime,
    ) -> tuple[list[SiteStation], list[SiteStation]]:
        """The connected stations whose default limit goes down (or is missing, or may have
        been lost in a reboot), and those whose goes up (or is lifted: `share` None)."""
        lower: list[SiteStation] = []
        higher: list[SiteStation] = []
        for station in stations:
            if not station.connected or self._failed_lately(station.station_id, now):
                continue
            held = defaults.get(station.station_id)
            if share is None:
                if held is not None:
                    higher.append(station)
                continue
            rebooted = (
                held is not None
                and station.last_boot_at is not None
                and station.last_boot_at > held.installed_at
            )
            if held is None or share < held.limit_a or rebooted:
                lower.append(station)
            elif share > held.limit_a:
                higher.append(station)
        return lower, higher

    async def _limit(self, evse: ChargingEvse, limit: Decimal, phases: int, now: datetime) -> bool:
        """Send a session its limit; whether its station accepted it. One it refused is
        counted at its maximum until RETRY_REFUSED has passed."""
        command = SetChargingProfile(evse_id=evse.evse_id, profile=tx_profile(evse, limit, phases))
        refused, why = await self._ask(evse.identity, command)
        if why is None:
            self._refused.pop(evse.key, None)
            return True
        logger.warning(
            "station %s did not take its limit of %s A on EVSE %s: %s",
            evse.identity,
            limit,
            evse.evse_id,
            why,
        )
        if refused:
            self._refused[evse.key] = (evse.session, now)
        return False

    async def _default(
        self, station: SiteStation, share: Decimal | None, phases: int, now: datetime
    ) -> bool:
        """Set (or, `share` None, lift) a station's default limit; whether it accepted. One
        that did not is asked again after RETRY_REFUSED."""
        command: Command
        if share is None:
            command, what = ClearChargingProfile(profile_id=SITE_PROFILE_ID_BASE), "the removal"
        else:
            command = SetChargingProfile(evse_id=0, profile=default_profile(share, phases))
            what = f"{share} A"
        _, why = await self._ask(station.identity, command)
        if why is None:
            self._failed_defaults.pop(station.station_id, None)
            return True
        logger.warning(
            "station %s did not take its default limit (%s): %s", station.identity, what, why
        )
        self._failed_defaults[station.station_id] = now
        return False

    async def _ask(self, identity: str, command: Command) -> tuple[bool, str | None]:
        """Send a command through the command log: whether the station answered no, and why
        it did not take it (None: it did)."""
        try:
            result = await commands.send_command(
                self._gateway, self._unit_of_work, identity, command, SMART_CHARGING_ACTOR
            )
        except CPMSError as error:
            return False, error.message
        return (False, None) if result.accepted else (True, f"refused ({result.status})")

    def _failed_lately(self, station_id: int, now: datetime) -> bool:
        failed = self._failed_defaults.get(station_id)
        return failed is not None and now - failed < RETRY_REFUSED

    def _refused_lately(self, evse: ChargingEvse, now: datetime) -> bool:
        refused = self._refused.get(evse.key)
        if refused is None:
            return False
        session, when = refused
        if session != evse.session or now - when >= RETRY_REFUSED:
            del self._refused[evse.key]
            return False
        return True


def session_limit(held: HeldLimits, evse: ChargingEvse) -> Decimal | None:
    """The limit a session is held to: its own, else its station's default, else none."""
    own = held.sessions.get(evse.key)
    if own is not None and own.transaction_id == evse.transaction_id:
        return own.limit_a
    default = held.defaults.get(evse.station_id)
    return None if default is None else default.limit_a


def partner_limit(held: HeldLimits, evse: ChargingEvse) -> Decimal | None:
    """The lowest current per phase a roaming partner's schedule allows the session: our limit
    outranks the partner's on the station (a higher stack level), so it must not exceed it."""
    schedule = held.partners.get((evse.station_id, evse.transaction_id))
    return None if schedule is None else lowest_current_a(schedule)


# The nominal voltage between a phase and neutral, for a limit in watts (IEC 60038, Europe).
NOMINAL_VOLTAGE_V = Decimal(230)


def lowest_current_a(schedule: Mapping[str, Any]) -> Decimal | None:
    """The lowest limit of a charging schedule (camelCase) in amperes per phase; a limit in
    watts is divided by the nominal voltage and its number of phases (3 when not given)."""
    lowest: Decimal | None = None
    watts = schedule.get("chargingRateUnit") == "W"
    for period in schedule.get("chargingSchedulePeriod") or []:
        try:
            limit = Decimal(str(period["limit"]))
            if watts:
                limit = limit / (NOMINAL_VOLTAGE_V * Decimal(str(period.get("numberPhases") or 3)))
            limit = limit.quantize(TENTH_A, rounding=ROUND_FLOOR)
        except (KeyError, ArithmeticError, ValueError):
            continue  # not a limit a station would have accepted
        lowest = limit if lowest is None else min(lowest, limit)
    return lowest


def idle_share(
    capacity: Decimal | None, allocated: Decimal, idle_evses: int, minimum: Decimal
) -> Decimal | None:
    """The default limit of a site's idle EVSEs: what the running sessions leave, split
    evenly, down to a tenth; 0 when that is under `minimum` (an EV is not offered less) or no
    EVSE is idle; None when nothing limits the site."""
    if capacity is None:
        return None
    if idle_evses <= 0:
        return Decimal(0)
    share = ((capacity - allocated) / idle_evses).quantize(TENTH_A, rounding=ROUND_FLOOR)
    return share if share >= minimum else Decimal(0)


def default_profile(share: Decimal, phases: int) -> dict[str, object]:
    """The OCPP 1.6 TxDefaultProfile (for EVSE 0: each EVSE of the station) holding every
    session without a TxProfile to `share` amperes per phase."""
    return {
        "charging_profile_id": SITE_PROFILE_ID_BASE,
        "stack_level": SITE_LIMIT_STACK_LEVEL,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": float(share), "number_phases": phases}
            ],
        },
    }


def tx_profile(evse: ChargingEvse, limit: Decimal, phases: int) -> dict[str, object]:
    """The OCPP 1.6 ChargingProfile (snake_case; the 2.0.1 adapter translates it) that holds
    the EVSE's transaction to `limit` amperes per phase."""
    transaction_id = evse.transaction_id
    return {
        "charging_profile_id": SITE_PROFILE_ID_BASE + evse.evse_id,
        # 1.6 numbers its transactions; 2.0.1 names them.
        "transaction_id": int(transaction_id) if transaction_id.isdigit() else transaction_id,
        "stack_level": SITE_LIMIT_STACK_LEVEL,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": float(limit), "number_phases": phases}
            ],
        },
    }
