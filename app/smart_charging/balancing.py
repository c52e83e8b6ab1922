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

What the station accepted is the limit in force (kept with its profiles). A station that is
offline is counted as drawing what it was last allowed (its maximum, if it has no limit from
us), and one that refused its profile as drawing its maximum, until it is asked again after
RETRY_REFUSED. Rounds run on the node holding the job's lease, one site at a time per site,
CONCURRENCY sites at once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import SetChargingProfile
from app.errors import CPMSError
from app.smart_charging import repository
from app.smart_charging.allocation import Demand, Fuse, allocate, limit_changes
from app.smart_charging.capacity import capacity_at
from app.smart_charging.models import (
    SMART_CHARGING_ACTOR,
    ChargingEvse,
    LimitInForce,
    SiteGrid,
)
from app.stations.grid import MAX_GRID_CAPACITY_A, LoadBalancing
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# Above a roaming partner's TxProfile (stack level 5): within one purpose the highest valid
# stack level is the one a station applies.
SITE_LIMIT_STACK_LEVEL = 6
# chargingProfileId = this + the EVSE number: one per EVSE, each new one replacing the last,
# and far from the ids of profiles set by hand or by partners (a session's id).
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
        # (station, EVSE) -> (transaction, when) of a profile the station refused.
        self._refused: dict[tuple[int, int], tuple[str, datetime]] = {}

    async def round(self) -> None:
        now = utcnow()
        sites = await repository.limited_sites(now)
        if not sites:
            return
        evses = await repository.charging_evses([site.site_id for site in sites])
        in_force = await repository.limits_in_force(sorted({evse.station_id for evse in evses}))
        at_site: dict[int, list[ChargingEvse]] = defaultdict(list)
        for evse in evses:
            at_site[evse.site_id].append(evse)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def balance(site: SiteGrid) -> None:
            async with slots:
                try:
                    await self.balance(site, at_site[site.site_id], in_force, now)
                except Exception:
                    logger.exception("balancing site %s failed", site.site_id)

        await asyncio.gather(*(balance(site) for site in sites if at_site[site.site_id]))

    async def balance(
        self,
        site: SiteGrid,
        evses: Sequence[ChargingEvse],
        in_force: Mapping[tuple[int, int], LimitInForce],
        now: datetime,
    ) -> None:
        """Share the site's capacity now among `evses` and send what changed."""
        capacity = capacity_at(site.grid_capacity_a, site.events, now)
        phases = frozenset({0}) if site.grid_phases == 1 else frozenset({0, 1, 2})
        current: dict[tuple[int, int], Decimal] = {}
        demands: list[Demand] = []
        for evse in evses:
            maximum = evse.max_current_a or DEFAULT_MAX_CURRENT_A
            held = in_force.get(evse.key)
            limit = held.limit_a if held and held.transaction_id == evse.transaction_id else None
            if limit is not None:
                current[evse.key] = limit
            fixed = None
            if not evse.connected:
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
        by_key: dict[Hashable, ChargingEvse] = {evse.key: evse for evse in evses}
        if await self._send(changes.decreases, by_key, len(phases), now):
            await self._send(changes.increases, by_key, len(phases), now)

    async def _send(
        self,
        limits: Mapping[Hashable, Decimal],
        evses: Mapping[Hashable, ChargingEvse],
        phases: int,
        now: datetime,
    ) -> bool:
        """Send each limit at once; whether every station accepted its own."""
        sent = await asyncio.gather(
            *(self._send_one(evses[key], limit, phases, now) for key, limit in limits.items())
        )
        return all(sent)

    async def _send_one(
        self, evse: ChargingEvse, limit: Decimal, phases: int, now: datetime
    ) -> bool:
        command = SetChargingProfile(evse_id=evse.evse_id, profile=tx_profile(evse, limit, phases))
        try:
            result = await commands.send_command(
                self._gateway, self._unit_of_work, evse.identity, command, SMART_CHARGING_ACTOR
            )
        except CPMSError as error:
            logger.warning(
                "station %s did not take its limit of %s A on EVSE %s: %s",
                evse.identity,
                limit,
                evse.evse_id,
                error.message,
            )
            return False
        if not result.accepted:
            logger.warning(
                "station %s refused its limit of %s A on EVSE %s (%s): it is counted at its "
                "maximum, and asked again in %s",
                evse.identity,
                limit,
                evse.evse_id,
                result.status,
                RETRY_REFUSED,
            )
            self._refused[evse.key] = (evse.transaction_id, now)
            return False
        self._refused.pop(evse.key, None)
        return True

    def _refused_lately(self, evse: ChargingEvse, now: datetime) -> bool:
        refused = self._refused.get(evse.key)
        if refused is None:
            return False
        transaction_id, when = refused
        if transaction_id != evse.transaction_id or now - when >= RETRY_REFUSED:
            del self._refused[evse.key]
            return False
        return True


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
