"""Our CDRs as OCPI 2.2.1 CDRs, for the partner whose token charged.

A CDR is final when it is made and never changes: a correction is a credit CDR (the same data,
`credit` set, the total cost negative, naming the CDR it credits) followed by a new CDR, as
OCPI says. Amounts are kept in minor units and sent in major units; volumes in kWh and hours.
The place is named as our Locations name it (the site's id, the EVSE's row id and eMI3 id),
as it was when the session ended."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from app.billing.models import CdrView
from app.roaming.models import Cdrs, PartyRole
from app.tariffs.models import Cost, from_minor_units
from ocpi.envelope import first_problem
from ocpi.v221.locations import evse_id
from ocpi.v221.models import (
    AuthMethod,
    Cdr,
    CdrDimension,
    CdrDimensionType,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    GeoLocation,
    Price,
    SignedData,
    SignedValue,
    Tariff,
    ocpi_datetime,
)
from ocpi.v221.tariffs import as_numbers
from ocpi.wire import NotSendable

logger = logging.getLogger(__name__)

# OCPP reading contexts, as OCPI names a signed value's nature.
_NATURES = {"Transaction.Begin": "Start", "Transaction.End": "End"}
_SIGNED_MAX = 5000  # characters of a SignedValue's data


def _money(amount_minor: int, currency: str) -> float:
    return float(from_minor_units(amount_minor, currency))


def price(cost: Cost, currency: str) -> Price:
    """An amount in minor units, excluding and including VAT, as an OCPI Price."""
    return Price(excl_vat=_money(cost.excl_vat, currency), incl_vat=_money(cost.incl_vat, currency))


def _part(cost: dict[str, Any] | None, currency: str) -> Price | None:
    """A part of the cost (energy, time, ...) as stored with the CDR; None when nothing."""
    if not cost or not (cost.get("excl_vat") or cost.get("incl_vat")):
        return None
    return price(Cost(excl_vat=int(cost["excl_vat"]), incl_vat=int(cost["incl_vat"])), currency)


def coordinate(value: Any) -> str:
    return f"{Decimal(str(value)):.6f}"


def _location(cdr: CdrView, operator: PartyRole) -> CdrLocation:
    place = cdr.location or {}
    needed = ("site_id", "latitude", "longitude", "evse_row_id", "connector_id", "country")
    missing = [name for name in needed if place.get(name) is None]
    if missing:
        raise NotSendable(f"the CDR's place lacks {', '.join(missing)}")
    return CdrLocation(
        id=str(place["site_id"]),
        name=(place.get("name") or "")[:255] or None,
        address=(place.get("address") or "")[:45],
        city=(place.get("city") or "")[:45],
        postal_code=(place.get("postal_code") or "")[:10] or None,
        country=place["country"],
        coordinates=GeoLocation(
            latitude=coordinate(place["latitude"]), longitude=coordinate(place["longitude"])
        ),
        evse_uid=str(place["evse_row_id"]),
        evse_id=evse_id(operator, place.get("evse_uid"), place["evse_row_id"]),
        connector_id=str(place["connector_id"]),
        connector_standard=place.get("connector_standard") or "IEC_62196_T2",
        connector_format=place.get("connector_format") or "SOCKET",
        connector_power_type=place.get("connector_power_type") or "AC_3_PHASE",
    )


def cdr_token(token: dict[str, Any] | None) -> CdrToken:
    """The token that charged, as a CDR or Session names it (a roaming partner's)."""
    token = token or {}
    if not token.get("country_code") or not token.get("party_id"):
        raise NotSendable("the token that charged is no roaming partner's")
    return CdrToken(
        country_code=token["country_code"],
        party_id=token["party_id"],
        uid=token["uid"],
        type=token.get("type") or "RFID",
        contract_id=token.get("contract_id") or token["uid"],
    )


def _periods(cdr: CdrView) -> list[ChargingPeriod]:
    periods = [
        ChargingPeriod(
            start_date_time=ocpi_datetime(datetime.fromisoformat(period["start_date_time"])),
            dimensions=[
                CdrDimension(type=each["type"], volume=float(Decimal(str(each["volume"]))))
                for each in period["dimensions"]
            ],
            tariff_id=period.get("tariff_id"),
        )
        for period in cdr.charging_periods
        if period.get("dimensions")
    ]
    if periods:
        return periods
    # A charge priced without a tariff has no periods; OCPI wants at least one.
    return [
        ChargingPeriod(
            start_date_time=ocpi_datetime(cdr.started_at),
            dimensions=[
                CdrDimension(type=CdrDimensionType.ENERGY, volume=cdr.total_energy_wh / 1000),
                CdrDimension(type=CdrDimensionType.TIME, volume=cdr.total_time_s / 3600),
            ],
        )
    ]


def _tariffs(cdr: CdrView, operator: PartyRole) -> list[Tariff]:
    snapshot = cdr.tariff_snapshot
    if not snapshot or not snapshot.get("id"):
        return []
    return [
        Tariff.model_validate(
            {
                **as_numbers(snapshot),
                "country_code": operator.country_code,
                "party_id": operator.party_id,
                "last_updated": ocpi_datetime(cdr.started_at),
            }
        )
    ]


def _signed_value(value: dict[str, Any]) -> SignedValue | None:
    signed = value.get("signed_data") or ""
    if not signed or len(signed) > _SIGNED_MAX:
        return None
    # OCMF: "OCMF|<payload>|<signature>"; its payload is the plain data.
    parts = signed.split("|")
    plain = parts[1] if signed.startswith("OCMF|") and len(parts) >= 3 else signed
    return SignedValue(
        nature=_NATURES.get(value.get("nature") or "", "Intermediate"),
        plain_data=plain,
        signed_data=signed,
    )


def _signed_data(cdr: CdrView) -> SignedData | None:
    values = (cdr.signed_data or {}).get("signed_values") or []
    shown = [each for each in (_signed_value(value) for value in values) if each is not None]
    if not shown:
        return None
    first = values[0]
    method = first.get("encoding_method") or (
        "OCMF" if str(first.get("signed_data", "")).startswith("OCMF|") else "UNKNOWN"
    )
    public_key = first.get("public_key")
    return SignedData(
        encoding_method=str(method)[:36],
        public_key=public_key if public_key and len(public_key) <= 512 else None,
        signed_values=shown,
    )


def cdr(view: CdrView, operator: PartyRole) -> Cdr:
    """The OCPI CDR of one of ours; NotSendable when it lacks what OCPI requires."""
    try:
        return _cdr(view, operator)
    except ValidationError as error:
        raise NotSendable(first_problem(error, "cdr")) from None


def _cdr(view: CdrView, operator: PartyRole) -> Cdr:
    costs = view.cost_breakdown or {}
    currency = view.currency
    token = view.token or {}
    return Cdr(
        country_code=operator.country_code,
        party_id=operator.party_id,
        id=view.code,
        start_date_time=ocpi_datetime(view.started_at),
        end_date_time=ocpi_datetime(view.ended_at),
        session_id=str(view.session_id) if view.session_id is not None else None,
        cdr_token=cdr_token(view.token),
        auth_method=AuthMethod(token.get("auth_method") or AuthMethod.WHITELIST),
        authorization_reference=token.get("authorization_reference"),
        cdr_location=_location(view, operator),
        currency=currency,
        tariffs=_tariffs(view, operator),
        charging_periods=_periods(view),
        signed_data=_signed_data(view),
        total_cost=price(
            Cost(excl_vat=view.total_cost_excl_vat_minor, incl_vat=view.total_cost_incl_vat_minor),
            currency,
        ),
        total_fixed_cost=_part(costs.get("fixed"), currency),
        total_energy=view.total_energy_wh / 1000,
        total_energy_cost=_part(costs.get("energy"), currency),
        total_time=view.total_time_s / 3600,
        total_time_cost=_part(costs.get("time"), currency),
        total_parking_time=view.total_parking_time_s / 3600,
        total_parking_cost=_part(costs.get("parking"), currency),
        credit=True if view.credit else None,
        credit_reference_id=view.credit_reference_code if view.credit else None,
        last_updated=ocpi_datetime(view.finalized_at or view.created_at),
    )


def cdrs(page: Cdrs) -> list[dict[str, Any]]:
    """A page of CDRs as OCPI objects. One OCPI cannot express (made before its place had
    coordinates, ...) is left out and logged; the push marks it as undeliverable."""
    shown = []
    for view in page.cdrs:
        try:
            shown.append(cdr(view, page.operator).model_dump(mode="json", exclude_none=True))
        except NotSendable as error:
            logger.warning("CDR %s left out of a pull: %s", view.code, error)
    return shown
