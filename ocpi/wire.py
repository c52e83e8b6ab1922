"""What differs between the OCPI versions we speak, as our calls to partners see it.

Each version package has a `wire` module with these names (as `ocpp_server/v16` and `v201`
each have their handlers); `ocpi.peers` picks the one of the version agreed with a partner.
The domain never sees a wire format: it hands over its own views and gets its own back."""

from __future__ import annotations

from typing import Any, Protocol

from app.auth.models import IssuerVerdict
from app.billing.models import CdrView
from app.roaming.models import (
    Locations,
    PartnerEndpoint,
    PartyRole,
    PeerCredentials,
    PulledToken,
    SessionReport,
    Tariffs,
)
from app.tariffs.models import TariffView


class NotSendable(ValueError):
    """What we would send lacks what the version requires (a CDR's place without
    coordinates, a tariff whose every element the version cannot express, ...)."""


class Wire(Protocol):
    VERSION: str
    # A Session carries its whole Location (2.1.1), not only the Location's ids (2.2.1).
    SESSION_CARRIES_PLACE: bool

    def authorization(self, token: str) -> str:
        """The Authorization header's value for a credentials token."""
        ...

    def routing(self, sender: PartyRole, country_code: str, party_id: str) -> dict[str, str]:
        """The headers that route a functional module's request (none where the version has
        no hubs)."""
        ...

    def credentials_body(self, ours: PeerCredentials) -> dict[str, Any]:
        """Our credentials as the version's Credentials object."""
        ...

    def credentials_of(self, data: Any) -> PeerCredentials:
        """A partner's Credentials object; pydantic's ValidationError when it is not one."""
        ...

    def endpoints_of(self, data: Any) -> tuple[PartnerEndpoint, ...]:
        """The endpoints of a partner's version details; ValidationError when they are not."""
        ...

    def location_bodies(self, page: Locations) -> list[dict[str, Any]]:
        """These sites as the version's Location objects."""
        ...

    def tariff_body(self, tariff: TariffView, page: Tariffs) -> dict[str, Any]:
        """A tariff as the version's Tariff object; NotSendable when it cannot say it."""
        ...

    def session_body(
        self, report: SessionReport, operator: PartyRole, places: Locations | None
    ) -> dict[str, Any]:
        """A session as the version's Session object (`places`: the Locations of its site, for
        versions that carry the whole place); NotSendable when it cannot say it."""
        ...

    def session_changes(self, report: SessionReport) -> dict[str, Any]:
        """What changes while a session runs, as the version's PATCH of a Session carries it."""
        ...

    def cdr_body(self, cdr: CdrView, operator: PartyRole) -> dict[str, Any]:
        """A CDR as the version's CDR object; NotSendable when it cannot say it."""
        ...

    def verdict(self, data: Any) -> IssuerVerdict:
        """A partner's AuthorizationInfo; ValidationError when it is not one."""
        ...

    def pulled_token(
        self, data: Any, partner_id: int, country_code: str, party_id: str
    ) -> PulledToken:
        """A Token from the partner's list (issued by the partner's own party, `country_code`
        and `party_id`, where the version's Token names none); ValidationError when it is
        not one."""
        ...
