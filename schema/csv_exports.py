"""Figures for finance as CSV over HTTP, authenticated as the GraphQL API is (`Authorization:
Bearer <key>`, a platform key with X-CPMS-Organization): the same service functions, another
form. A failure is a plain-text answer with the HTTP status its kind calls for."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry import relay

from app.auth import service as auth
from app.auth.models import Principal
from app.errors import CPMSError, InvalidInput, NotAuthenticated
from app.roaming import service as roaming
from app.runtime import Runtime
from app.tariffs.models import from_minor_units
from schema.access import acting_for, bearer_secret
from schema.ids import local_id

_STATUS = {"not_authenticated": 401, "not_permitted": 403, "not_found": 404}
# A cell a spreadsheet would take for a formula is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

SETTLEMENT_COLUMNS = [
    "partner",
    "country_code",
    "party_id",
    "from",
    "to",
    "currency",
    "cdrs",
    "credits",
    "energy_kwh",
    "amount_excl_vat",
    "amount_incl_vat",
]


async def _principal(request: Request) -> Principal:
    runtime: Runtime = request.app.state.runtime
    secret = bearer_secret(request.headers.get("authorization"))
    if secret is None:
        raise NotAuthenticated("sign in: send Authorization: Bearer <key>")
    return await auth.authenticate_acting_for(
        runtime.unit_of_work(), secret, acting_for(request.headers)
    )


def _parameter(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidInput(f"{name}: required")
    return value


def _moment(request: Request, name: str) -> datetime:
    text = _parameter(request, name)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{name}: an ISO 8601 date and time, e.g. 2026-11-01T00:00:00Z"
        ) from None


def _partner_id(request: Request) -> int:
    text = _parameter(request, "partnerId")
    try:
        parsed = relay.GlobalID.from_id(text)
    except Exception:  # strawberry raises several kinds for a malformed id
        raise InvalidInput(f"partnerId: {text!r} is not a Partner id") from None
    found = local_id(parsed, "Partner")
    assert found is not None
    return found


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def roaming_settlement_csv(request: Request) -> Response:
    """`GET /exports/roaming-settlement.csv?partnerId=&from=&to=`: the roamingSettlement query
    as CSV, one row per currency."""
    try:
        principal = await _principal(request)
        settlement = await roaming.settlement(
            principal, _partner_id(request), _moment(request, "from"), _moment(request, "to")
        )
    except CPMSError as error:
        return PlainTextResponse(error.message, status_code=_STATUS.get(error.code, 400))
    partner = settlement.partner
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    for line in settlement.lines:
        writer.writerow(
            [
                _cell(partner.name),
                partner.country_code,
                partner.party_id,
                settlement.period_from.isoformat(),
                settlement.period_to.isoformat(),
                line.currency,
                line.cdrs,
                line.credits,
                Decimal(line.energy_wh).scaleb(-3),
                from_minor_units(line.amount_excl_vat_minor, line.currency),
                from_minor_units(line.amount_incl_vat_minor, line.currency),
            ]
        )
    name = f"settlement-{partner.country_code}-{partner.party_id}-{settlement.period_from:%Y%m%d}"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
