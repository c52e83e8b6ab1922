"""Keeping partners current: every status a station reports (and every connection it makes
or loses) reaches each connected partner that takes location pushes within about a second,
and every CDR of a partner's tokens is sent to that partner once.

Nothing is queued per change: what the domain stores anyway is the log.

EVSE statuses: the status history the stations domain writes. Each partner has a cursor in it
(`partner.push_cursor`); a round reads the entries after the cursor, sends each EVSE they
concern once, in its current state (so a newer change supersedes an unsent one, and an
object's updates never arrive out of order), and moves the cursor on. The cursor moves only
past entries older than GRACE: an entry whose transaction committed after a later one was read
would otherwise be skipped. Entries read but not yet passed are remembered, so they are not
sent twice by this node.

Whole Locations: each partner has a cursor in the sites' own changes (their data, a
station placed there or moved away); every few seconds the sites that changed after it are
sent whole (PUT), and the cursor moves on past GRACE as for statuses.

Sessions: each session of a partner's token is marked with the partner and stays pending
until the partner has its last state (completed and priced). A round sends the pending ones
that changed since the partner was last told (the whole session at its start and end, kWh
and cost while it runs, at most every CPMS_OCPI_SESSION_UPDATE_S).

Tariffs: each partner keeps what it has from us (`partner.pushed_tariffs`, code and
last_updated); every few seconds the tariffs its drivers may pay are compared with it, and
each new or changed one is PUT, each it may no longer see DELETEd.

CDRs: billing marks each CDR of a partner's token with the partner; a round sends those not
yet accepted, oldest first, and marks each as it is accepted. One the partner refuses (or that
OCPI cannot express) is marked with why, shown with the partner, and not sent again.

A partner that is down keeps its place, is tried again with back-off, and then gets the
current state of every EVSE that changed meanwhile and every CDR it missed. A node that stops
mid-round leaves the place where it was; the next holder of the partner's lease sends again
(a repeated EVSE update is harmless; a CDR is sent again only if the node stopped between the
partner's answer and the mark)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta

from app.billing import service as billing
from app.events import PartnerDeliveryChanged
from app.leases import Leases
from app.roaming import repository
from app.roaming.errors import PartnerRefused, PartnerUnreachable, Unsendable
from app.roaming.models import Locations, PushTarget
from app.roaming.peers import RoamingPeers, WholeLocations
from app.roaming.service import own_identity, session_reports, whole_locations
from app.sessions import service as sessions
from app.sessions.models import ACTIVE
from app.stations import service as stations
from app.tariffs import service as tariffs
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)

ROUND_INTERVAL_S = 0.5
GRACE = timedelta(seconds=5)
# Failing pushes for this long open an alert (healing reacts to PartnerDeliveryChanged).
ALERT_AFTER = timedelta(hours=1)
BATCH = 2000  # status history entries read per partner and round
CDR_BATCH = 100  # CDRs sent per partner and round
SESSION_BATCH = 500  # sessions looked at per partner and round
TARIFF_SYNC_S = 5.0  # a partner's tariffs are compared with what it has at most this often
LOCATION_SYNC_S = 2.0  # changed sites are looked for per partner at most this often
LOCATION_BATCH = 200  # whole Locations sent per partner and round

MAX_BACKOFF_S = 300.0


class PartnerPushes:
    def __init__(
        self,
        peers: RoamingPeers,
        leases: Leases,
        unit_of_work: UnitOfWorkFactory,
        lease_s: float,
        session_update_s: float = 60.0,
    ) -> None:
        self._peers = peers
        self._leases = leases
        self._unit_of_work = unit_of_work
        self._lease_s = lease_s
        self._session_update_s = session_update_s
        self._running: dict[int, asyncio.Task[None]] = {}
        # Per partner registration: entries sent beyond its cursor, failures in a row.
        self._sent: dict[tuple[int, datetime | None], set[int]] = {}
        self._failures: dict[tuple[int, datetime | None], int] = {}
        # Per partner registration: when changed sites were last looked for (monotonic), and
        # the sites sent beyond its location cursor (site id -> the change sent).
        self._locations_synced: dict[tuple[int, datetime | None], float] = {}
        self._sites_sent: dict[tuple[int, datetime | None], dict[int, datetime]] = {}
        # Per partner registration: when its tariffs were last compared (monotonic).
        self._tariffs_synced: dict[tuple[int, datetime | None], float] = {}
        # Per partner registration and running session: when it was last sent (monotonic).
        self._session_sent: dict[tuple[tuple[int, datetime | None], int], float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="partner pushes")

    async def stop(self) -> None:
        tasks = [task for task in (self._task, *self._running.values()) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for partner_id in list(self._running):
            await self._leases.release(_lease(partner_id))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(ROUND_INTERVAL_S)
            try:
                await self.round()
            except Exception:
                logger.exception("partner push round failed; the next one runs as planned")

    async def round(self) -> None:
        """Start a push for every partner that is due and not being pushed to already, on
        this node or (its lease) another."""
        for target in await repository.push_targets(utcnow()):
            running = self._running.get(target.partner_id)
            if running is not None and not running.done():
                continue
            if not await self._leases.hold(_lease(target.partner_id), self._lease_s):
                continue
            self._running[target.partner_id] = asyncio.create_task(
                self._logged_push(target), name=f"partner push {target.partner_id}"
            )

    async def _logged_push(self, target: PushTarget) -> None:
        try:
            await self.push(target)
        except Exception:
            logger.exception("push to partner %s failed", target.partner_id)

    async def push(self, target: PushTarget) -> None:
        """One pass for one partner: EVSE statuses, then CDRs."""
        try:
            cursor = await self._push_statuses(target)
            delivered = await self._push_locations(target)
            delivered += await self._push_sessions(target)
            delivered += await self._send_cdrs(target)
            delivered += await self._push_tariffs(target)
        except PartnerUnreachable as error:
            await self._failed(target, error.message)
            return
        recovered = self._failures.pop(target.connection, 0) or target.failing_since
        if cursor != target.cursor or delivered or recovered:
            await repository.set_partner(
                target.partner_id,
                {
                    "push_cursor": cursor,
                    "last_push_at": utcnow(),
                    "push_failing_since": None,
                    "push_error": None,
                    "next_push_at": None,
                },
            )
        if target.failing_since is not None:
            await self._tell(target, None, None)

    async def _push_statuses(self, target: PushTarget) -> int | None:
        """Send the EVSEs whose status changed since the cursor; the cursor to keep."""
        if target.locations_url is None:
            return target.cursor
        if target.cursor is None:  # a new partner: it pulls first, pushes follow from now
            return await stations.latest_recorded_status_id()
        recorded = await stations.recorded_statuses_after(
            target.organization_id, target.cursor, BATCH
        )
        sent = self._sent.setdefault(target.connection, set())
        fresh = [each for each in recorded if each.id not in sent]
        if fresh:
            states = await stations.evse_states(target.organization_id, fresh)
            if states:
                operator = await own_identity(target.organization_id)
                await self._peers.push_evse_statuses(
                    target, operator, states, _whole_locations_of(target)
                )
        settled_before = utcnow() - GRACE
        cursor = target.cursor
        for each in recorded:
            if each.received_at >= settled_before:
                break
            cursor = each.id
        sent.update(each.id for each in recorded)
        sent.difference_update({entry for entry in sent if entry <= cursor})
        return cursor

    async def _push_locations(self, target: PushTarget) -> int:
        """Send whole the Locations whose site changed (its address, hours, ..., a station
        placed there or moved away) since the partner's location cursor, every
        LOCATION_SYNC_S at most. How many went out."""
        if target.locations_url is None or not _due(
            self._locations_synced, target.connection, LOCATION_SYNC_S
        ):
            return 0
        if target.location_cursor is None:  # a new partner: it pulls first, changes follow
            await repository.set_partner(target.partner_id, {"location_cursor": utcnow()})
            return 0
        changed = await stations.locatable_sites_changed(
            target.organization_id, target.location_cursor, LOCATION_BATCH
        )
        sent = self._sites_sent.setdefault(target.connection, {})
        fresh = [site_id for site_id, at in changed if sent.get(site_id) != at]
        if fresh:
            page = await whole_locations(target.organization_id, target.partner_id, fresh)
            await self._peers.put_locations(target, page.operator, page)
        sent.update(changed)
        # The cursor passes only changes older than GRACE: a later commit of an earlier
        # change would otherwise be skipped.
        settled_before = utcnow() - GRACE
        cursor = target.location_cursor
        for _, at in changed:
            if at >= settled_before:
                break
            cursor = at
        if cursor != target.location_cursor:
            await repository.set_partner(target.partner_id, {"location_cursor": cursor})
            for site_id in [site_id for site_id, at in sent.items() if at <= cursor]:
                del sent[site_id]
        return len(fresh)

    async def _push_sessions(self, target: PushTarget) -> int:
        """Tell the partner about its tokens' sessions that changed since it was last told:
        the whole session when it starts and ends, kWh and cost while it runs (at most every
        CPMS_OCPI_SESSION_UPDATE_S). How many went out."""
        if target.sessions_url is None:
            return 0
        now = time.monotonic()
        due = []
        for each in await sessions.partner_sessions_pending(target.partner_id, SESSION_BATCH):
            told = each.pushed_at is not None and each.updated_at <= each.pushed_at
            if told:
                if each.final:  # its last state went out, but was not marked so
                    await sessions.partner_session_pushed(each)
                continue
            last = self._session_sent.get((target.connection, each.id))
            running = each.state == ACTIVE and each.pushed_at is not None
            if running and last is not None and now - last < self._session_update_s:
                continue
            due.append(each)
        if not due:
            return 0
        operator = await own_identity(target.organization_id)
        places = _whole_locations_of(target)
        for report in await session_reports(due):
            session = report.session
            whole = session.pushed_at is None or session.state != ACTIVE
            try:
                await self._peers.push_session(target, operator, report, whole=whole, places=places)
            except (PartnerRefused, Unsendable) as error:
                # Sending it again would be refused again: the partner can still pull it.
                logger.warning(
                    "session %s not pushed to partner %s: %s",
                    session.id,
                    target.partner_id,
                    error.message,
                )
            await sessions.partner_session_pushed(session)
            key = (target.connection, session.id)
            if session.final:
                self._session_sent.pop(key, None)
            else:
                self._session_sent[key] = now
        return len(due)

    async def _push_tariffs(self, target: PushTarget) -> int:
        """Bring the partner's copy of the tariffs its drivers may pay up to date (every
        TARIFF_SYNC_S at most): PUT each new or changed one, DELETE each it may no longer
        see. How many went out."""
        if target.tariffs_url is None or not _due(
            self._tariffs_synced, target.connection, TARIFF_SYNC_S
        ):
            return 0
        current = {
            tariff.code: tariff
            for tariff in await tariffs.tariffs_for_partner(
                target.organization_id, target.partner_id
            )
        }
        sent = {code: tariff.updated_at.isoformat() for code, tariff in current.items()}
        if target.pushed_tariffs is None:  # a new partner: it pulls first, changes follow
            await repository.set_partner(target.partner_id, {"pushed_tariffs": sent})
            return 0
        known = dict(target.pushed_tariffs)
        changed = [tariff for code, tariff in current.items() if known.get(code) != sent[code]]
        removed = [code for code in known if code not in current]
        if not changed and not removed:
            return 0
        operator = await own_identity(target.organization_id)
        try:
            for tariff in changed:
                try:
                    await self._told(target, self._peers.put_tariff(target, operator, tariff))
                except Unsendable as error:
                    # Its version cannot express this tariff: it is not sent again until it
                    # changes, and a version of it the partner had is withdrawn.
                    logger.warning(
                        "tariff not sent to partner %s: %s", target.partner_id, error.message
                    )
                    if tariff.code in known:
                        await self._told(
                            target, self._peers.delete_tariff(target, operator, tariff.code)
                        )
                known[tariff.code] = sent[tariff.code]
            for code in removed:
                await self._told(target, self._peers.delete_tariff(target, operator, code))
                known.pop(code)
        finally:  # what went out is kept, even when the partner stopped answering midway
            await repository.set_partner(target.partner_id, {"pushed_tariffs": known})
        return len(changed) + len(removed)

    @staticmethod
    async def _told(target: PushTarget, call: Awaitable[None]) -> None:
        """Send one update; one the partner refuses is not sent again (it can still pull)."""
        try:
            await call
        except PartnerRefused as error:
            logger.warning("partner %s refused an update: %s", target.partner_id, error.message)

    async def _send_cdrs(self, target: PushTarget) -> int:
        """Send the partner's CDRs it has not accepted yet, oldest first; how many it took.
        Stops at the first that could not be delivered (PartnerUnreachable)."""
        if target.cdrs_url is None:
            return 0
        pending = await billing.undelivered_partner_cdrs(target.partner_id, CDR_BATCH)
        if not pending:
            return 0
        operator = await own_identity(target.organization_id)
        delivered = 0
        for cdr in pending:
            try:
                await self._peers.send_cdr(target, operator, cdr)
            except (PartnerRefused, Unsendable) as error:
                logger.warning(
                    "CDR %s not delivered to partner %s: %s",
                    cdr.code,
                    target.partner_id,
                    error.message,
                )
                await billing.partner_cdr_refused(cdr.id, error.message)
                continue
            await billing.partner_cdr_delivered(cdr.id)
            delivered += 1
        return delivered

    async def _failed(self, target: PushTarget, reason: str) -> None:
        failures = self._failures.get(target.connection, 0) + 1
        self._failures[target.connection] = failures
        delay = min(2.0**failures, MAX_BACKOFF_S)
        logger.warning(
            "cannot push to partner %s (retry in %.0f s): %s",
            target.partner_id,
            delay,
            reason,
        )
        now = utcnow()
        await repository.record_push_failure(
            target.partner_id, reason, now, now + timedelta(seconds=delay)
        )
        failing_since = target.failing_since or now
        if now - failing_since >= ALERT_AFTER:
            await self._tell(target, failing_since, reason)

    async def _tell(
        self, target: PushTarget, failing_since: datetime | None, reason: str | None
    ) -> None:
        """Pushes to the partner fail for long (an alert opens), or work again (it resolves)."""
        async with self._unit_of_work() as uow:
            uow.emit(
                PartnerDeliveryChanged(
                    organization_id=target.organization_id,
                    partner_id=target.partner_id,
                    partner_name=target.name,
                    failing_since=failing_since,
                    error=reason,
                )
            )


def _due(
    last_runs: dict[tuple[int, datetime | None], float],
    connection: tuple[int, datetime | None],
    every_s: float,
) -> bool:
    """Whether a partner's periodic comparison is due (at most every `every_s`); if so, it
    counts as run now."""
    now = time.monotonic()
    last = last_runs.get(connection)
    if last is not None and now - last < every_s:
        return False
    last_runs[connection] = now
    return True


def _lease(partner_id: int) -> str:
    return f"partner push {partner_id}"


def _whole_locations_of(target: PushTarget) -> WholeLocations:
    """Sites as this partner sees them, whole, for a push that needs them."""

    async def whole(site_ids: Sequence[int]) -> Locations:
        return await whole_locations(target.organization_id, target.partner_id, site_ids)

    return whole
