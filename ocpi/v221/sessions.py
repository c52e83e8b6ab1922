"""The sessions of a partner's tokens as OCPI 2.2.1 Sessions: ACTIVE while charging,
COMPLETED once over (INVALID for a session whose start we never saw), with the kWh so far and
the cost so far (running, from the tariff it started under) or final (as billed). The place is
named as our Locations name it."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from app.roaming.models import PartyRole, SessionReport, Sessions
from app.sessions.models import ACTIVE, COMPLETED
from ocpi.envelope import first_problem
from ocpi.v221.cdrs import cdr_token, price
from ocpi.v221.models import AuthMethod, Session, SessionStatus, ocpi_datetime
from ocpi.wire import NotSendable

logger = logging.getLogger(__name__)


def status(state: str) -> SessionStatus:
    if state == ACTIVE:
        return SessionStatus.ACTIVE
    return SessionStatus.COMPLETED if state == COMPLETED else SessionStatus.INVALID


def session(report: SessionReport, operator: PartyRole) -> Session:
    """The OCPI Session; NotSendable when it lacks what OCPI requires (a station without a
    site, ...)."""
    each = report.session
    missing = [
        name
        for name, value in (
            ("location", each.site_id),
            ("EVSE", each.evse_row_id),
            ("connector", each.connector_id),
        )
        if value is None
    ]
    if missing:
        raise NotSendable(f"session {each.id} has no {', '.join(missing)}")
    token = each.token or {}
    try:
        return Session(
            country_code=operator.country_code,
            party_id=operator.party_id,
            id=str(each.id),
            start_date_time=ocpi_datetime(each.started_at),
            end_date_time=ocpi_datetime(each.ended_at) if each.ended_at else None,
            kwh=each.energy_wh / 1000,
            cdr_token=cdr_token(each.token),
            auth_method=AuthMethod(token.get("auth_method") or AuthMethod.WHITELIST),
            authorization_reference=token.get("authorization_reference"),
            location_id=str(each.site_id),
            evse_uid=str(each.evse_row_id),
            connector_id=str(each.connector_id),
            currency=each.currency,
            total_cost=price(report.cost, each.currency) if report.cost else None,
            status=status(each.state),
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
        body["total_cost"] = price(report.cost, each.currency).model_dump(mode="json")
    return body


def sessions(page: Sessions) -> list[dict[str, Any]]:
    """A page of sessions as OCPI objects; one OCPI cannot express is left out and logged."""
    shown = []
    for report in page.sessions:
        try:
            shown.append(session(report, page.operator).model_dump(mode="json", exclude_none=True))
        except NotSendable as error:
            logger.warning("session %s left out of a pull: %s", report.session.id, error)
    return shown
