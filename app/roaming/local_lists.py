"""Stations' local authorization lists, kept up to date with roaming partners' tokens.

A partner may let its tokens be used without asking it (OCPI whitelist ALWAYS or ALLOWED).
When the operator says so for that partner (its `station_local_lists` flag), those tokens go
into the local authorization list of every station of the organization (OCPP SendLocalList),
so its drivers charge at a station that has lost its connection too. Tokens the partner wants
to be asked about (NEVER, ALLOWED_OFFLINE) stay out: a station that finds a token in its list
may start without asking us, so without us asking the partner.

Every round, each connected station whose list is behind is brought up to date: a whole (Full)
update the first time, after the station refused one, or when which partners' tokens belong
in it changed; after that Differential updates with the tokens changed since (a token no
longer listed is removed, one made invalid is kept as refused). Long lists go out in several
messages, each with the next list version. A station that booted since is first asked which
version it has: one that lost its list gets it whole again. Once one partner of an
organization is listed, the CPMS owns its stations' lists: an update it sends replaces what
was put there by hand."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.auth.access import Permission, require
from app.auth.models import ACCEPTED, EXPIRED, Principal
from app.commands import service as commands
from app.commands.errors import CommandFailed
from app.commands.gateway import ChargerGateway
from app.commands.models import GetLocalListVersion, SendLocalList
from app.errors import CPMSError
from app.roaming import repository
from app.roaming.repository import LISTED_WHITELISTS
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# A token change is sent once its transaction has surely committed: changes are read up to
# this long ago, so one written a moment before a round is not skipped by the next.
SETTLE = timedelta(seconds=2)
# Stations sent their list at once, per round.
CONCURRENCY = 8
# A station that refused an update is asked again after this long; one that does not do
# local lists at all, after a day (new firmware may).
RETRY_AFTER_FAILURE = timedelta(hours=1)
RETRY_AFTER_NOT_SUPPORTED = timedelta(days=1)


class LocalListState(StrEnum):
    """How a station's last list update went."""

    PENDING = "pending"  # a whole list is due (none sent yet, or one cut short)
    SYNCED = "synced"
    FAILED = "failed"  # refused (Failed, a CALLERROR); asked again after RETRY_AFTER_FAILURE
    VERSION_MISMATCH = "version_mismatch"  # its version was not ours: a whole list next
    NOT_SUPPORTED = "not_supported"


@dataclass(frozen=True, slots=True)
class LocalListView:
    """What a station's local list was sent, and how the last attempt went."""

    version: int
    state: LocalListState
    synced_to: datetime | None  # token changes up to then are in it; None: a whole one is due
    next_attempt_at: datetime | None
    updated_at: datetime


async def local_lists_of(
    principal: Principal, station_ids: Sequence[int]
) -> dict[int, LocalListView]:
    """The local lists the CPMS keeps on these stations of the caller's organization."""
    require(principal, Permission.READ_NETWORK)
    rows = await repository.local_lists_of(principal.organization_id, list(station_ids))
    return {
        row["station"]: LocalListView(
            version=row["version"],
            state=LocalListState(row["state"]),
            synced_to=row["synced_to"],
            next_attempt_at=row["next_attempt_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    }


class LocalLists:
    """The round that brings stations' local lists up to date (one node at a time)."""

    def __init__(
        self,
        gateway: ChargerGateway,
        unit_of_work: Callable[[], UnitOfWork],
        items_per_message: int,
    ) -> None:
        self._gateway = gateway
        self._unit_of_work = unit_of_work
        self._items_per_message = items_per_message

    async def round(self) -> None:
        for organization_id in await repository.local_list_organizations():
            await self.bring_up_to_date(organization_id)

    async def bring_up_to_date(self, organization_id: int) -> None:
        now = utcnow()
        upto = now - SETTLE
        # The lists' generations first: a reset after them is not missed (see save_local_list).
        stations = await repository.stations_for_local_lists(organization_id)
        listing = await repository.lists_partner_tokens(organization_id)
        latest = await repository.latest_token_change(organization_id, upto)
        behind = [station for station in stations if _is_behind(station, listing, latest, now)]
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(station: dict[str, Any]) -> None:
            async with semaphore:
                await self._send(organization_id, station, upto, now)

        await asyncio.gather(*(one(station) for station in behind))

    async def _send(
        self, organization_id: int, station: dict[str, Any], upto: datetime, now: datetime
    ) -> None:
        sent = station["list"]
        whole = sent is None or sent["synced_to"] is None
        if not whole and _rebooted(station):
            # A station replaced under the same identity, or reset to its factory settings,
            # lost its list: which version it has says whether it did.
            try:
                there = await self._version_there(station["identity"])
            except CommandFailed:  # it cannot say (no GetLocalListVersion): trusted to keep it
                there = sent["version"]
            if there is None:
                return  # not known now: the next round asks again
            whole = there != sent["version"]
        if whole:
            entries: list[tuple[str, str | None]] = [
                (uid, ACCEPTED)
                for uid in await repository.listed_tokens(organization_id, now, upto)
            ]
        else:
            changes = await repository.changed_tokens(organization_id, sent["synced_to"], upto)
            entries = _differential(changes, now)
        version = sent["version"] if sent else 0
        # A whole list goes out even when empty: it empties the station's list.
        batches = _batches(entries, self._items_per_message) or ([[]] if whole else [])
        for number, batch in enumerate(batches):
            command = SendLocalList(
                version=version + 1, full=whole and number == 0, entries=tuple(batch)
            )
            try:
                result = await commands.send_command(
                    self._gateway, self._unit_of_work, station["identity"], command
                )
            except CommandFailed:  # a CALLERROR (NotImplemented, ...): a refusal too
                await self._refused(station["id"], version, LocalListState.FAILED, now)
                return
            except CPMSError as error:  # offline, timed out, ...: the next round tries again
                logger.info("local list of %s not sent: %s", station["identity"], error.message)
                if number:  # part of it went: a whole list follows at the next round
                    await self._refused(station["id"], version, LocalListState.PENDING, now)
                return
            if not result.accepted:
                await self._refused(station["id"], version, _refusal(result.status), now)
                return
            version += 1
        async with self._unit_of_work():
            await repository.save_local_list(
                station["id"],
                {
                    "version": version,
                    "synced_to": upto,
                    "state": LocalListState.SYNCED.value,
                    "next_attempt_at": None,
                },
                # A reset since the list was read (a partner listed or not) wins.
                generation=sent["generation"] if sent else 0,
            )

    async def _version_there(self, identity: str) -> int | None:
        """The list version the station says it has (None: it did not say)."""
        try:
            result = await commands.send_command(
                self._gateway, self._unit_of_work, identity, GetLocalListVersion()
            )
        except CommandFailed:
            raise
        except CPMSError as error:  # offline, timed out, ...
            logger.info("local list version of %s not known: %s", identity, error.message)
            return None
        version = result.data.get("version")
        return version if isinstance(version, int) else None

    async def _refused(
        self, station_id: int, version: int, state: LocalListState, now: datetime
    ) -> None:
        """The station did not take the update: a whole list next, when it may be asked."""
        wait = {
            LocalListState.NOT_SUPPORTED: RETRY_AFTER_NOT_SUPPORTED,
            LocalListState.FAILED: RETRY_AFTER_FAILURE,
        }.get(state)
        async with self._unit_of_work():
            await repository.save_local_list(
                station_id,
                {
                    "version": version,
                    "synced_to": None,
                    "state": state.value,
                    "next_attempt_at": now + wait if wait else None,
                },
            )


def _is_behind(
    station: dict[str, Any], listing: bool, latest: datetime | None, now: datetime
) -> bool:
    """Does this station's list need an update, or a look? One never sent a list needs one
    only while some partner's tokens belong in it."""
    sent = station["list"]
    if sent is None:
        return listing
    if sent["next_attempt_at"] is not None and sent["next_attempt_at"] > now:
        return False
    if sent["synced_to"] is None or _rebooted(station):
        return True
    return latest is not None and latest > sent["synced_to"]


def _rebooted(station: dict[str, Any]) -> bool:
    """Has the station booted since its list was last sent (or found up to date)?"""
    booted, sent = station["last_boot_at"], station["list"]
    return booted is not None and sent is not None and booted > sent["updated_at"]


def _refusal(status: str) -> LocalListState:
    return {
        "VersionMismatch": LocalListState.VERSION_MISMATCH,
        "NotSupported": LocalListState.NOT_SUPPORTED,
    }.get(status, LocalListState.FAILED)


def _differential(changes: Sequence[dict[str, Any]], now: datetime) -> list[tuple[str, str | None]]:
    """Each changed token as the station should now hold it: listed with its status, or
    removed when it may no longer be used without asking its issuer (the last change of a
    uid wins)."""
    entries: dict[str, str | None] = {}
    for token in changes:
        if token["whitelist"] not in LISTED_WHITELISTS:
            entries[token["uid"]] = None
        elif token["expires_at"] is not None and token["expires_at"] <= now:
            entries[token["uid"]] = EXPIRED
        else:
            entries[token["uid"]] = token["status"]
    return list(entries.items())


def _batches(entries: list[tuple[str, str | None]], size: int) -> list[list[Any]]:
    return [entries[start : start + size] for start in range(0, len(entries), size)]
