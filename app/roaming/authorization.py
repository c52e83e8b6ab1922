"""Real-time authorization: a roaming partner's token whose whitelist says so is asked about
at the partner (OCPI: POST {tokens}/{uid}/authorize) when a station presents it. This is
auth's `TokenIssuers` port: the core asks, roaming knows whom and how, the OCPI adapter
speaks the wire.

A partner that does not answer within CPMS_OCPI_AUTHORIZE_TIMEOUT_S counts as unreachable
(a station waits for its Authorize answer); one that says it does not know the token refuses
it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.auth.models import IssuerAllowed, IssuerVerdict
from app.roaming import repository
from app.roaming.errors import PartnerRefused, PartnerUnreachable
from app.roaming.peers import RoamingPeers
from app.roaming.service import own_identity
from app.stations import service as stations

logger = logging.getLogger(__name__)


class IssuerAuthorization:
    def __init__(self, peers: RoamingPeers, timeout_s: float) -> None:
        self._peers = peers
        self._timeout_s = timeout_s

    async def authorize(
        self, organization_id: int, partner_id: int, token: dict[str, Any], station_id: int
    ) -> IssuerVerdict | None:
        found = await repository.token_issuer_target(partner_id)
        if found is None:
            return None
        target, tokens_url = found
        site = await stations.site_of_station(station_id)
        operator = await own_identity(organization_id)
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._peers.authorize_token(
                    target, operator, tokens_url, token, str(site.id) if site else None
                )
        except PartnerRefused as error:  # it does not know the token, or will not say
            logger.info("partner %s refused token authorization: %s", partner_id, error.message)
            return IssuerVerdict(allowed=IssuerAllowed.NOT_ALLOWED)
        except (PartnerUnreachable, TimeoutError) as error:
            reason = error.message if isinstance(error, PartnerUnreachable) else "too slow"
            logger.warning("cannot ask partner %s about a token: %s", partner_id, reason)
            return None
