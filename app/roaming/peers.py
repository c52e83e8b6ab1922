"""The port through which the roaming domain talks to partners' platforms.

The domain decides whom to call and what to keep; the protocol adapter (`ocpi/`) implements
this port (the wire format, the HTTP calls, the outbound URL rule) and `app/main.py` wires it
in, as `ChargerGateway` is for chargers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from app.auth.models import IssuerVerdict
from app.billing.models import CdrView
from app.roaming.models import (
    Locations,
    PartyRole,
    PeerCredentials,
    PeerVersion,
    PushTarget,
    SessionReport,
    TokenPage,
    TokenSource,
)
from app.stations.models import EvseState
from app.tariffs.models import TariffView

# The whole Locations of these sites, as the partner sees them.
WholeLocations = Callable[[Sequence[int]], Awaitable[Locations]]


class RoamingPeers(Protocol):
    async def discover(
        self, versions_url: str, token: str, version: str | None = None
    ) -> PeerVersion:
        """The partner's endpoints in `version` (the one it called us in), or else in the
        newest version both sides speak; raises PartnerUnreachable or NoCommonVersion."""
        ...

    async def exchange_credentials(
        self,
        credentials_url: str,
        token: str,
        ours: PeerCredentials,
        *,
        version: str,
        update: bool = False,
    ) -> PeerCredentials:
        """Send our credentials, in the form of the agreed `version`, to the partner's
        credentials endpoint (POST, or PUT to update), authenticated with `token`; the
        partner's credentials in return. Raises PartnerUnreachable."""
        ...

    async def push_evse_statuses(
        self,
        target: PushTarget,
        operator: PartyRole,
        states: Sequence[EvseState],
        whole: WholeLocations,
    ) -> None:
        """Send the partner these EVSEs' current status (what it has already is skipped);
        where it refuses one (it does not know the EVSE or its location yet), send the whole
        Location, which `whole` gives. Raises PartnerUnreachable when one could not be sent."""
        ...

    async def put_locations(
        self, target: PushTarget, operator: PartyRole, locations: Locations
    ) -> None:
        """Send the partner these whole Locations (new, or changed beyond a status); one it
        refuses is not sent again. Raises PartnerUnreachable when one could not be
        delivered."""
        ...

    async def push_session(
        self,
        target: PushTarget,
        operator: PartyRole,
        report: SessionReport,
        *,
        whole: bool,
        places: WholeLocations,
    ) -> None:
        """Send the partner a session of its token: whole (its start and end), or only what
        changes while it runs (where the partner does not know it yet, whole). `places` gives
        the whole Location of its site where the protocol carries it. Raises PartnerRefused,
        Unsendable or PartnerUnreachable as send_cdr does."""
        ...

    async def authorize_token(
        self,
        target: PushTarget,
        operator: PartyRole,
        tokens_url: str,
        token: dict[str, Any],
        location_id: str | None,
    ) -> IssuerVerdict:
        """Ask the partner whether its token (as it sent it) may charge now, at this
        Location when known. Raises PartnerRefused when it will not say (an unknown token)
        and PartnerUnreachable when it could not be asked."""
        ...

    def pull_tokens(
        self,
        source: TokenSource,
        operator: PartyRole,
        changed_from: datetime | None,
        max_tokens: int,
    ) -> AsyncIterator[TokenPage]:
        """The tokens the partner lists (those changed since `changed_from`; all of them when
        None), a page at a time, following its paging. Raises PartnerUnreachable when a page
        could not be read, when the list goes on past `max_tokens` or comes round again, and
        PartnerRefused when the partner will not list them."""
        ...

    async def put_tariff(self, target: PushTarget, operator: PartyRole, tariff: TariffView) -> None:
        """Send the partner a tariff its drivers may pay (new or changed). Raises
        PartnerRefused or PartnerUnreachable."""
        ...

    async def delete_tariff(self, target: PushTarget, operator: PartyRole, code: str) -> None:
        """Tell the partner a tariff is no longer one its drivers may pay."""
        ...

    async def send_cdr(self, target: PushTarget, operator: PartyRole, cdr: CdrView) -> None:
        """Send one CDR to the partner's CDRs receiver. Raises PartnerRefused when the
        partner refuses it, Unsendable when the protocol cannot express it, and
        PartnerUnreachable when it could not be delivered (try again later)."""
        ...

    async def report_result(
        self, response_url: str, token: str, body: dict[str, Any], version: str
    ) -> None:
        """Tell the partner how a request it made ended (a command, a charging profile), at
        the URL it gave for it, in the protocol `version` it asked in: once, no retries, as
        OCPI says. Raises PartnerUnreachable when it could not be told."""
        ...

    async def unregister(self, credentials_url: str, token: str, version: str) -> None:
        """Tell the partner we end the connection (DELETE on its credentials endpoint);
        raises PartnerUnreachable when it could not be told."""
        ...

    def own_versions_url(self) -> str:
        """Where partners find our versions."""
        ...


def own_credentials(peers: RoamingPeers, token: str, identity: PartyRole) -> PeerCredentials:
    return PeerCredentials(token=token, url=peers.own_versions_url(), roles=(identity,))
