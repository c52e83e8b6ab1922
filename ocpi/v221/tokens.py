"""The tokens module as a receiver: eMSPs PUT and PATCH their tokens into our store
(`{tokens}/{country_code}/{party_id}/{uid}[?type=RFID]`) and GET them back; stations'
authorizations then follow them (their `valid`, and their `whitelist`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.auth.models import IdTokenType, PartnerToken, Whitelist
from app.timeparse import parse_timestamp
from ocpi.envelope import OcpiError, Status
from ocpi.v221.models import Token, TokenType

# How a station reports a token of each OCPI type (IdTokenEnumType): a card's UID, an app's
# or an ad hoc user's id given centrally, anything else as a local id.
STATION_TYPES = {
    TokenType.RFID: IdTokenType.ISO14443,
    TokenType.APP_USER: IdTokenType.CENTRAL,
    TokenType.AD_HOC_USER: IdTokenType.CENTRAL,
    TokenType.OTHER: IdTokenType.LOCAL,
}


def token_type(request: Request) -> TokenType:
    text = request.query_params.get("type", TokenType.RFID.value)
    try:
        return TokenType(text)
    except ValueError:
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"type: one of {', '.join(TokenType)}", 400
        ) from None


def as_received(partner_id: int, token: Token, country_code: str, party_id: str) -> PartnerToken:
    """The token as kept (its party is its own `country_code` and `party_id`, the URL's)."""
    return PartnerToken(
        partner_id=partner_id,
        uid=token.uid,
        type=STATION_TYPES[token.type].value,
        valid=token.valid,
        whitelist=Whitelist(token.whitelist.value),
        contract_id=token.contract_id,
        visual_number=token.visual_number,
        group_id=token.group_id,
        issued_as=token.model_dump(mode="json", exclude_none=True),
        updated_at=parse_timestamp(token.last_updated),
    )


def same_keys(token: Token, country_code: str, party_id: str, uid: str, kind: TokenType) -> None:
    """The object's ids must be the URL's (OCPI 2001 otherwise)."""
    given = (token.country_code.upper(), token.party_id.upper(), token.uid, token.type)
    if given != (country_code.upper(), party_id.upper(), uid, kind):
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            "country_code, party_id, uid and type must be those of the URL",
        )


def given_back(issued_as: dict[str, Any]) -> dict[str, Any]:
    """A stored token as it was sent; one sent in 2.1.1 (before the partner moved to 2.2.1)
    with its `auth_id` as `contract_id` (its party is kept with it already)."""
    if "auth_id" not in issued_as:
        return issued_as
    token = {key: value for key, value in issued_as.items() if key != "auth_id"}
    token.setdefault("contract_id", issued_as["auth_id"])
    return token
