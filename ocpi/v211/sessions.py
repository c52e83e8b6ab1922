"""The sessions of a partner's tokens as OCPI 2.1.1 Sessions: the same sessions as 2.2.1's
(`ocpi.v221.sessions`), in 2.1.1's form. A 2.1.1 Session carries its place as a whole
Location (as our Locations show it, with only the EVSE and connector used) instead of ids, the
token as its `auth_id`, and its cost as one number, excluding VAT (as 2.1.1's tariffs are)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from app.roaming.models import Locations, SessionReport, Sessions
from app.tariffs.models import from_minor_units
from ocpi.envelope import first_problem
from ocpi.v211.locations import location
from ocpi.v211.models import AuthMethod, Location, Session, SessionStatus, ocpi_datetime
from ocpi.v221.sessions import status
from ocpi.wire import NotSendable

logger = logging.getLogger(__name__)


def auth_id(token: dict[str, Any] | None) -> str:
    """The token that charged as 2.1.1 names it: its contract id (2.1.1's auth_id)."""
    token = token or {}
    found = token.get("contract_id") or token.get("uid")
    if not found:
        raise NotSendable("no token charged")
    return str(found)[:36]


def auth_method(token: dict[str, Any] | None) -> AuthMethod:
    """2.1.1 knows a whitelist and a request to the eMSP; a start by its command is the
    latter."""
    method = (token or {}).get("auth_method") or AuthMethod.WHITELIST.value
    return AuthMethod.WHITELIST if method == AuthMethod.WHITELIST else AuthMethod.AUTH_REQUEST


def amount(minor: int, currency: str) -> float:
    return float(from_minor_units(minor, currency))


def narrowed(shown: Location, evse_uid: str, connector_id: str) -> Location:
    """A Location with only one of its EVSEs and one of that EVSE's connectors."""
    evse = next((each for each in shown.evses if each.uid == evse_uid), None)
    connector = evse and next((c for c in evse.connectors if c.id == connector_id), None)
    if evse is None or connector is None:
        raise NotSendable(f"EVSE {evse_uid} connector {connector_id} is not at the Location")
    return shown.model_copy(update={"evses": [evse.model_copy(update={"connectors": [connector]})]})


def session(report: SessionReport, places: Locations) -> Session:
    """The 2.1.1 Session; NotSendable when it lacks what 2.1.1 requires (no place, a connector
    2.1.1 cannot name, ...). `places`: the Locations of the sessions' sites."""
    each = report.session
    network = next((n for n in places.sites if n.site.id == each.site_id), None)
    if network is None or each.evse_row_id is None or each.connector_id is None:
        raise NotSendable(f"session {each.id} has no place at a Location")
    place = narrowed(location(network, places), str(each.evse_row_id), str(each.connector_id))
    try:
        return Session(
            id=str(each.id),
            start_datetime=ocpi_datetime(each.started_at),
            end_datetime=ocpi_datetime(each.ended_at) if each.ended_at else None,
            kwh=each.energy_wh / 1000,
            auth_id=auth_id(each.token),
            auth_method=auth_method(each.token),
            location=place,
            currency=each.currency,
            total_cost=amount(report.cost.excl_vat, each.currency) if report.cost else None,
            status=SessionStatus(status(each.state).value),
            last_updated=ocpi_datetime(each.updated_at),
        )
    except ValidationError as error:
        raise NotSendable(first_problem(error, "session")) from None


def changes(report: SessionReport) -> dict[str, Any]:
    """What changes while a session runs, as a PATCH carries it."""
    each = report.session
    body: dict[str, Any] = {
        "kwh": each.energy_wh / 1000,
        "last_updated": ocpi_datetime(each.updated_at),
    }
    if report.cost is not None:
        body["total_cost"] = amount(report.cost.excl_vat, each.currency)
    return body


def sessions(page: Sessions, places: Locations) -> list[dict[str, Any]]:
    """A page of sessions; one 2.1.1 cannot express is left out and logged."""
    shown = []
    for report in page.sessions:
        try:
            shown.append(session(report, places).model_dump(mode="json", exclude_none=True))
        except NotSendable as error:
            logger.warning("session %s left out of a pull: %s", report.session.id, error)
    return shown
