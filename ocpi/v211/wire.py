"""OCPI 2.1.1 on the wire, as our calls to partners need it (see `ocpi.wire`)."""

from __future__ import annotations

from typing import Any

from app.auth.models import IssuerAllowed, IssuerVerdict
from app.billing.models import CdrView
from app.roaming.models import (
    EndpointRole,
    Locations,
    PartnerEndpoint,
    PartnerRole,
    PartyRole,
    PeerCredentials,
    PulledToken,
    SessionReport,
    Tariffs,
)
from app.tariffs.models import TariffView
from ocpi.v211 import cdrs, locations, models, sessions, tokens
from ocpi.v211.models import BusinessDetails, Credentials, VersionDetails, printable_ascii
from ocpi.v211.tariffs import tariff

# 2.1.1 endpoints have no role: what an eMSP's endpoint is for follows from its module (it
# sends its tokens and its own credentials; it receives everything else a CPO sends).
_SENT_BY_PARTNER = {"tokens", "credentials"}


VERSION = models.VERSION
SESSION_CARRIES_PLACE = True


def authorization(token: str) -> str:
    """2.1.1 sends the token as it is."""
    return "Token " + token


def routing(sender: PartyRole, country_code: str, party_id: str) -> dict[str, str]:
    return {}  # 2.1.1 knows no hubs


def credentials_body(ours: PeerCredentials) -> dict[str, Any]:
    (identity,) = ours.roles[:1]  # 2.1.1 credentials name one party
    return Credentials(
        token=ours.token,
        url=ours.url,
        business_details=BusinessDetails(name=printable_ascii(identity.name, 100)),
        party_id=identity.party_id,
        country_code=identity.country_code,
    ).model_dump(mode="json", exclude_none=True)


def credentials_of(data: Any) -> PeerCredentials:
    """A 2.1.1 partner's credentials: one party, an eMSP (the only role 2.1.1 pairs a CPO
    with). A business name that is not ASCII is read as its nearest ASCII form, as a 2.1.1
    string would be."""
    if isinstance(data, dict) and isinstance(data.get("business_details"), dict):
        details = data["business_details"]
        name = details.get("name")
        if isinstance(name, str):
            data = {**data, "business_details": {**details, "name": printable_ascii(name, 100)}}
    model = Credentials.model_validate(data)
    return PeerCredentials(
        token=model.token,
        url=model.url,
        roles=(
            PartyRole(
                role=PartnerRole.EMSP.value,
                country_code=model.country_code.upper(),
                party_id=model.party_id.upper(),
                name=model.business_details.name,
            ),
        ),
    )


def endpoints_of(data: Any) -> tuple[PartnerEndpoint, ...]:
    details = VersionDetails.model_validate(data)
    return tuple(
        PartnerEndpoint(
            each.identifier,
            (
                EndpointRole.SENDER
                if each.identifier in _SENT_BY_PARTNER
                else EndpointRole.RECEIVER
            ).value,
            each.url,
        )
        for each in details.endpoints
    )


def tariff_body(view: TariffView, page: Tariffs) -> dict[str, Any]:
    return tariff(view, page).model_dump(mode="json", exclude_none=True)


def location_bodies(page: Locations) -> list[dict[str, Any]]:
    return locations.location_bodies(page)


def session_body(
    report: SessionReport, operator: PartyRole, places: Locations | None
) -> dict[str, Any]:
    assert places is not None  # SESSION_CARRIES_PLACE
    return sessions.session(report, places).model_dump(mode="json", exclude_none=True)


def session_changes(report: SessionReport) -> dict[str, Any]:
    return sessions.changes(report)


def cdr_body(view: CdrView, operator: PartyRole) -> dict[str, Any]:
    return cdrs.cdr(view, operator).model_dump(mode="json", exclude_none=True)


def verdict(data: Any) -> IssuerVerdict:
    """2.1.1's AuthorizationInfo has no reference to quote back."""
    info = models.AuthorizationInfo.model_validate(data)
    return IssuerVerdict(allowed=IssuerAllowed(info.allowed.value), reference=None)


def pulled_token(data: Any, partner_id: int, country_code: str, party_id: str) -> PulledToken:
    """A 2.1.1 Token names no party: it is the partner's own."""
    token = models.Token.model_validate(data)
    issuer = country_code.upper(), party_id.upper()
    return PulledToken(*issuer, tokens.as_received(partner_id, token, *issuer))
