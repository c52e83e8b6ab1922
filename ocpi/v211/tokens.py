"""The tokens module as a receiver, in 2.1.1: eMSPs PUT and PATCH their tokens into the same
store as 2.2.1's (`{tokens}/{country_code}/{party_id}/{uid}[?type=RFID]`), and the same
authorization follows them. A 2.1.1 Token names no party (the URL does) and has `auth_id`
where 2.2.1 has `contract_id`; its types are RFID and OTHER."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.auth.models import IdTokenType, PartnerToken, Whitelist
from app.timeparse import parse_timestamp
from ocpi.envelope import OcpiError, Status
from ocpi.v211.models import Token, TokenType

# How a station reports a token of each 2.1.1 type (as 2.2.1's, see `ocpi.v221.tokens`).
STATION_TYPES = {TokenType.RFID: IdTokenType.ISO14443, TokenType.OTHER: IdTokenType.LOCAL}


def token_type(request: Request) -> TokenType:
    text = request.query_params.get("type", TokenType.RFID.value)
    try:
        return TokenType(text)
    except ValueError:
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"type: one of {', '.join(TokenType)}", 400
        ) from None


# Kept with the token as the party that issued it (the URL's: a 2.1.1 Token names none), as
# a 2.2.1 Token carries it; left out when the token is given back, with what else only a
# token sent in 2.2.1 (before the partner moved to 2.1.1) has.
_NOT_211 = (
    "country_code",
    "party_id",
    "contract_id",
    "group_id",
    "default_profile_type",
    "energy_contract",
)


def as_received(partner_id: int, token: Token, country_code: str, party_id: str) -> PartnerToken:
    issued_as = token.model_dump(mode="json", exclude_none=True)
    issued_as.update(country_code=country_code.upper(), party_id=party_id.upper())
    return PartnerToken(
        partner_id=partner_id,
        uid=token.uid,
        type=STATION_TYPES[token.type].value,
        valid=token.valid,
        whitelist=Whitelist(token.whitelist.value),
        contract_id=token.auth_id,
        visual_number=token.visual_number,
        group_id=None,
        issued_as=issued_as,
        updated_at=parse_timestamp(token.last_updated),
    )


def same_keys(token: Token, country_code: str, party_id: str, uid: str, kind: TokenType) -> None:
    """The object's ids must be the URL's (OCPI 2001 otherwise); its party is the URL's."""
    if (token.uid, token.type) != (uid, kind):
        raise OcpiError(Status.INVALID_PARAMETERS, "uid and type must be those of the URL")


def given_back(issued_as: dict[str, Any]) -> dict[str, Any]:
    """A stored token as a 2.1.1 Token: one sent in 2.2.1 has its `contract_id` as `auth_id`,
    and a type 2.1.1 does not have (an app user's) as OTHER."""
    token = {key: value for key, value in issued_as.items() if key not in _NOT_211}
    if "auth_id" not in token and "contract_id" in issued_as:
        token["auth_id"] = issued_as["contract_id"]
    if token.get("type") not in set(TokenType):
        token["type"] = TokenType.OTHER.value
    return token
