"""Pulling partners' tokens: an eMSP (or a hub) that lists its tokens (the OCPI tokens module,
where it is the sender) has what it lists kept here as if it had PUT each token, so its
drivers are authorized from our store (and stations' local lists) without waiting for a push
it may never send.

A partner is pulled from whole after each registration, then every CPMS_OCPI_TOKEN_PULL_S for
what changed since the last complete pull began (less OVERLAP: a token written while that
pull ran, or by a clock a little behind ours, is asked for again). A token is written only
when it is new or newer than the one kept, so a repeated pull changes nothing; one whose uid
and type are another issuer's here, or of a party the partner does not speak for, is left
alone. A pull that fails keeps what it read, records why on the partner (`tokensPullError`),
and is tried again at the next round; one that completes clears it. Pulls run on the node
holding the job's lease, one partner after another."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.auth import service as auth
from app.errors import CPMSError
from app.roaming import repository
from app.roaming.models import TokenSource
from app.roaming.peers import RoamingPeers
from app.roaming.service import own_identity, speaks_for
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)


class TokenPulls:
    def __init__(
        self,
        peers: RoamingPeers,
        unit_of_work: UnitOfWorkFactory,
        every_s: float,
        max_tokens: int,
    ) -> None:
        self._peers = peers
        self._unit_of_work = unit_of_work
        self._every = timedelta(seconds=every_s)
        self._max_tokens = max_tokens

    async def round(self) -> None:
        """Pull from every partner that is due: never pulled from since it registered, or
        not for CPMS_OCPI_TOKEN_PULL_S."""
        for source in await repository.token_sources(utcnow() - self._every):
            await self.pull(source)

    async def pull(self, source: TokenSource) -> None:
        target = source.target
        began = utcnow()
        since = source.pulled_at - OVERLAP if source.pulled_at is not None else None
        own = (target.country_code, target.party_id)
        changed = unchanged = left_alone = unreadable = 0
        try:
            operator = await own_identity(target.organization_id)
            pages = self._peers.pull_tokens(source, operator, since, self._max_tokens)
            async for page in pages:
                theirs = [
                    each.token
                    for each in page.tokens
                    if speaks_for(source.roles, own, each.country_code, each.party_id)
                ]
                kept = await auth.keep_partner_tokens(
                    self._unit_of_work(), target.organization_id, theirs
                )
                changed += kept.changed
                unchanged += kept.unchanged
                left_alone += kept.conflicting + len(page.tokens) - len(theirs)
                unreadable += page.unreadable
        except CPMSError as error:
            logger.warning(
                "pulling the tokens of partner %s failed: %s", target.partner_id, error.message
            )
            await repository.record_token_pull(
                target.partner_id, target.registered_at, None, error.message
            )
            return
        await repository.record_token_pull(target.partner_id, target.registered_at, began, None)
        logger.info(
            "pulled the tokens of partner %s (%s): %d new or changed, %d unchanged, "
            "%d left alone (another issuer's, or another party's), %d not Tokens",
            target.partner_id,
            "changes" if since is not None else "all",
            changed,
            unchanged,
            left_alone,
            unreadable,
        )
