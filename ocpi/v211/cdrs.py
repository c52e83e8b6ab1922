"""Our CDRs as OCPI 2.1.1 CDRs: the same CDRs as 2.2.1's (`ocpi.v221.cdrs`), in 2.1.1's
form. The place is a whole Location (with the EVSE and connector used) made from what the CDR
recorded when the session ended; amounts are single numbers excluding VAT, as 2.1.1's tariffs
are. 2.1.1 has no credit CDRs: a correction's credit CDR goes as a CDR of its own id
(`<id>-C`) with the negative total cost and a remark naming the CDR it credits, followed by
the new CDR, as in 2.2.1."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from app.billing.models import CdrView
from app.roaming.models import Cdrs, PartyRole
from ocpi.envelope import first_problem
from ocpi.v211.models import (
    BusinessDetails,
    Cdr,
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    Connector,
    ConnectorType,
    Evse,
    EvseStatus,
    GeoLocation,
    Location,
    LocationType,
    PowerType,
    Tariff,
    ocpi_datetime,
    printable_ascii,
)
from ocpi.v211.sessions import amount, auth_id, auth_method
from ocpi.v211.tariffs import tariff_element
from ocpi.v221.cdrs import coordinate
from ocpi.v221.locations import evse_id
from ocpi.v221.tariffs import as_numbers
from ocpi.wire import NotSendable

logger = logging.getLogger(__name__)

_DIMENSIONS = {each.value for each in CdrDimensionType}


def _location(view: CdrView, operator: PartyRole, when: str) -> Location:
    place = view.location or {}
    needed = ("site_id", "latitude", "longitude", "evse_row_id", "connector_id", "country")
    missing = [name for name in needed if place.get(name) is None]
    if missing:
        raise NotSendable(f"the CDR's place lacks {', '.join(missing)}")
    standard = place.get("connector_standard") or ConnectorType.IEC_62196_T2.value
    power_type = place.get("connector_power_type") or PowerType.AC_3_PHASE.value
    if standard not in set(ConnectorType) or power_type not in set(PowerType):
        raise NotSendable(f"OCPI 2.1.1 has no connector {standard} {power_type}")
    connector = Connector(
        id=str(place["connector_id"]),
        standard=ConnectorType(standard),
        format=place.get("connector_format") or "SOCKET",
        power_type=PowerType(power_type),
        # Recorded with CDRs since 2.1.1 is spoken; 0 (unknown) for older ones.
        voltage=int(place.get("connector_max_voltage") or 0),
        amperage=int(place.get("connector_max_amperage") or 0),
        last_updated=when,
    )
    return Location(
        id=str(place["site_id"]),
        type=LocationType.UNKNOWN,
        name=printable_ascii(place.get("name") or "", 255) or None,
        address=printable_ascii(place.get("address") or "", 45),
        city=printable_ascii(place.get("city") or "", 45),
        postal_code=printable_ascii(place.get("postal_code") or "", 10),
        country=place["country"],
        coordinates=GeoLocation(
            latitude=coordinate(place["latitude"]), longitude=coordinate(place["longitude"])
        ),
        evses=[
            Evse(
                uid=str(place["evse_row_id"]),
                evse_id=printable_ascii(
                    evse_id(operator, place.get("evse_uid"), place["evse_row_id"]), 48
                ),
                status=EvseStatus.UNKNOWN,  # a record of the past, not the EVSE's status now
                connectors=[connector],
                last_updated=when,
            )
        ],
        operator=BusinessDetails(name=printable_ascii(operator.name, 100)),
        time_zone=place.get("time_zone"),
        last_updated=when,
    )


def _periods(view: CdrView) -> list[ChargingPeriod]:
    periods = []
    for period in view.charging_periods:
        dimensions = [
            CdrDimension(type=each["type"], volume=float(Decimal(str(each["volume"]))))
            for each in period.get("dimensions") or []
            if each["type"] in _DIMENSIONS
        ]
        if dimensions:
            start = datetime.fromisoformat(period["start_date_time"])
            periods.append(
                ChargingPeriod(start_date_time=ocpi_datetime(start), dimensions=dimensions)
            )
    if periods:
        return periods
    # A charge priced without a tariff has no periods; OCPI wants at least one.
    return [
        ChargingPeriod(
            start_date_time=ocpi_datetime(view.started_at),
            dimensions=[
                CdrDimension(type=CdrDimensionType.ENERGY, volume=view.total_energy_wh / 1000),
                CdrDimension(type=CdrDimensionType.TIME, volume=view.total_time_s / 3600),
            ],
        )
    ]


def _tariffs(view: CdrView) -> list[Tariff]:
    snapshot = view.tariff_snapshot
    if not snapshot or not snapshot.get("id"):
        return []
    elements = [shown for each in snapshot.get("elements") or [] if (shown := tariff_element(each))]
    if not elements:
        return []
    return [
        Tariff.model_validate(
            {
                "id": snapshot["id"],
                "currency": snapshot.get("currency") or view.currency,
                "elements": as_numbers(elements),
                "last_updated": ocpi_datetime(view.started_at),
            }
        )
    ]


def cdr(view: CdrView, operator: PartyRole) -> Cdr:
    """The 2.1.1 CDR of one of ours; NotSendable when it lacks what 2.1.1 requires."""
    when = ocpi_datetime(view.finalized_at or view.created_at)
    try:
        return Cdr(
            id=view.code,
            start_date_time=ocpi_datetime(view.started_at),
            stop_date_time=ocpi_datetime(view.ended_at),
            auth_id=auth_id(view.token),
            auth_method=auth_method(view.token),
            location=_location(view, operator, when),
            currency=view.currency,
            tariffs=_tariffs(view),
            charging_periods=_periods(view),
            total_cost=amount(view.total_cost_excl_vat_minor, view.currency),
            total_energy=view.total_energy_wh / 1000,
            total_time=view.total_time_s / 3600,
            total_parking_time=view.total_parking_time_s / 3600,
            remark=f"Credit for CDR {view.credit_reference_code}" if view.credit else None,
            last_updated=when,
        )
    except ValidationError as error:
        raise NotSendable(first_problem(error, "cdr")) from None


def cdrs(page: Cdrs) -> list[dict[str, Any]]:
    """A page of CDRs; one 2.1.1 cannot express is left out and logged."""
    shown = []
    for view in page.cdrs:
        try:
            shown.append(cdr(view, page.operator).model_dump(mode="json", exclude_none=True))
        except NotSendable as error:
            logger.warning("CDR %s left out of a pull: %s", view.code, error)
    return shown
