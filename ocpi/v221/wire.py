"""OCPI 2.2.1 on the wire, as our calls to partners need it (see `ocpi.wire`)."""

from __future__ import annotations

import base64
from typing import Any

from app.auth.models import IssuerAllowed, IssuerVerdict
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
from ocpi.envelope import routing_headers
from ocpi.v221 import models, sessions, tokens
from ocpi.v221.cdrs import cdr
from ocpi.v221.locations import locations
from ocpi.v221.models import (
    BusinessDetails,
    Credentials,
    CredentialsRole,
    Role,
    VersionDetails,
)
from ocpi.v221.tariffs import tariff

VERSION = models.VERSION
SESSION_CARRIES_PLACE = False


def authorization(token: str) -> str:
    """2.2.1 sends the token in base64."""
    return "Token " + base64.b64encode(token.encode()).decode()


def routing(sender: PartyRole, country_code: str, party_id: str) -> dict[str, str]:
    return routing_headers(sender.country_code, sender.party_id, country_code, party_id)


def credentials_model(credentials: PeerCredentials) -> Credentials:
    return Credentials(
        token=credentials.token,
        url=credentials.url,
        roles=[
            CredentialsRole(
                role=Role(role.role),
                business_details=BusinessDetails(name=role.name[:100]),
                party_id=role.party_id,
                country_code=role.country_code,
            )
            for role in credentials.roles
        ],
    )


def credentials_body(ours: PeerCredentials) -> dict[str, Any]:
    return credentials_model(ours).model_dump(mode="json", exclude_none=True)


def peer_credentials(model: Credentials) -> PeerCredentials:
    return PeerCredentials(
        token=model.token,
        url=model.url,
        roles=tuple(
            PartyRole(
                role=role.role.value,
                country_code=role.country_code.upper(),
                party_id=role.party_id.upper(),
                name=role.business_details.name,
            )
            for role in model.roles
        ),
    )


def credentials_of(data: Any) -> PeerCredentials:
    return peer_credentials(Credentials.model_validate(data))


def endpoints_of(data: Any) -> tuple[PartnerEndpoint, ...]:
    details = VersionDetails.model_validate(data)
    return tuple(
        PartnerEndpoint(each.identifier, each.role.value, each.url) for each in details.endpoints
    )


def location_bodies(page: Locations) -> list[dict[str, Any]]:
    return [each.model_dump(mode="json", exclude_none=True) for each in locations(page)]


def tariff_body(view: TariffView, page: Tariffs) -> dict[str, Any]:
    return tariff(view, page).model_dump(mode="json", exclude_none=True)


def session_body(
    report: SessionReport, operator: PartyRole, places: Locations | None
) -> dict[str, Any]:
    """2.2.1 names the place by ids: `places` is not needed."""
    return sessions.session(report, operator).model_dump(mode="json", exclude_none=True)


def session_changes(report: SessionReport) -> dict[str, Any]:
    return sessions.changes(report)


def cdr_body(view: CdrView, operator: PartyRole) -> dict[str, Any]:
    return cdr(view, operator).model_dump(mode="json", exclude_none=True)


def verdict(data: Any) -> IssuerVerdict:
    info = models.AuthorizationInfo.model_validate(data)
    return IssuerVerdict(
        allowed=IssuerAllowed(info.allowed.value), reference=info.authorization_reference
    )


def pulled_token(data: Any, partner_id: int, country_code: str, party_id: str) -> PulledToken:
    """A 2.2.1 Token names the party that issued it (a hub lists several)."""
    token = models.Token.model_validate(data)
    issuer = token.country_code.upper(), token.party_id.upper()
    return PulledToken(*issuer, tokens.as_received(partner_id, token, *issuer))
