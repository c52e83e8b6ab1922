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
messages, each with the next list version. Once one partner of an organization is listed,
the CPMS owns its stations' lists: an update it sends replaces what was put there by hand."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.auth.models import ACCEPTED, EXPIRED
from app.commands import service as commands
from app.commands.errors import CommandFailed
from app.commands.gateway import ChargerGateway
from app.commands.models import SendLocalList
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

    PENDING = "pending"  # none sent yet
    SYNCED = "synced"
    FAILED = "failed"  # refused (Failed, a CALLERROR); asked again after RETRY_AFTER_FAILURE
    VERSION_MISMATCH = "version_mismatch"  # its version was not ours: a whole list next
    NOT_SUPPORTED = "not_supported"


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
        listing = await repository.lists_partner_tokens(organization_id)
        latest = await repository.latest_token_change(organization_id, upto)
        behind = [
            station
            for station in await repository.stations_for_local_lists(organization_id)
            if _is_behind(station["list"], listing, latest, now)
        ]
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
                if number:  # part of it went: the rest follows as a whole list
                    await self._refused(station["id"], version, LocalListState.FAILED, now)
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
            )

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
    sent: dict[str, Any] | None, listing: bool, latest: datetime | None, now: datetime
) -> bool:
    """Does this station's list need an update? One never sent a list needs one only while
    some partner's tokens belong in it."""
    if sent is None:
        return listing
    if sent["next_attempt_at"] is not None and sent["next_attempt_at"] > now:
        return False
    return sent["synced_to"] is None or (latest is not None and latest > sent["synced_to"])


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
