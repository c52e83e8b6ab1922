"""Our sites as OCPI 2.2.1 Locations: a site is a Location, an EVSE an EVSE (uid: its row
id, stable and no hardware id, as the errata advise; the site's parking restrictions), a
connector a Connector.

An EVSE's status comes from its connectors' normalised statuses (the same for OCPP 1.6 and
2.0.1) and its station's own: a station that is not connected is UNKNOWN, one that reports
itself Unavailable or Faulted makes every EVSE INOPERATIVE or OUTOFORDER."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from app.roaming.models import Locations, PartyRole
from app.stations.connector_status import ConnectorStatus, normalise
from app.stations.models import ConnectorView, DepartedEvseView, SiteNetwork, StationView
from ocpi.v221.models import (
    BusinessDetails,
    Capability,
    Connector,
    EnergyMix,
    Evse,
    EvseStatus,
    GeoLocation,
    Hours,
    Location,
    ParkingRestriction,
    ParkingType,
    ocpi_datetime,
)

_IN_USE = {
    ConnectorStatus.PREPARING,
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.FINISHING,
    ConnectorStatus.OCCUPIED,
}
# One connector of an EVSE in use makes the EVSE in use; then reserved, available, ...
_ORDER = [
    (lambda status: status in _IN_USE, EvseStatus.CHARGING),
    (lambda status: status is ConnectorStatus.RESERVED, EvseStatus.RESERVED),
    (lambda status: status is ConnectorStatus.AVAILABLE, EvseStatus.AVAILABLE),
    (lambda status: status is ConnectorStatus.FAULTED, EvseStatus.OUTOFORDER),
    (lambda status: status is ConnectorStatus.UNAVAILABLE, EvseStatus.INOPERATIVE),
]
ALWAYS_OPEN = Hours(twentyfourseven=True)
# What every EVSE here can do: OCPP 1.6 and 2.0.1 stations all take remote starts and stops
# and connector unlocks (their core profile), which the commands module carries out.
# Reservations and charging profiles are optional in OCPP, so they are not promised.
CAPABILITIES = [Capability.REMOTE_START_STOP_CAPABLE, Capability.UNLOCK_CAPABLE]


def evse_status(station: StationView, connectors: list[ConnectorView]) -> EvseStatus:
    if not station.connected:
        return EvseStatus.UNKNOWN
    own = normalise(station.status)
    if own is ConnectorStatus.FAULTED:
        return EvseStatus.OUTOFORDER
    if own is ConnectorStatus.UNAVAILABLE:
        return EvseStatus.INOPERATIVE
    statuses = [each.api_status for each in connectors]
    for matches, status in _ORDER:
        if any(matches(each) for each in statuses):
            return status
    return EvseStatus.UNKNOWN


def coordinate(value: Decimal) -> str:
    return f"{value:.6f}"


def moment(*candidates: datetime | None) -> str:
    return ocpi_datetime(max(each for each in candidates if each is not None))


def evse_id(operator: PartyRole, evse_uid: str | None, row_id: int) -> str:
    """The eMI3 EVSE id: the one set for the EVSE, else one made from the operator's id and
    the EVSE's row id."""
    return evse_uid or f"{operator.country_code}*{operator.party_id}*E{row_id}"


def _connector(
    connector: ConnectorView, codes: dict[int, str], site_changed: datetime | None
) -> Connector:
    code = codes.get(connector.id)
    return Connector(
        id=str(connector.connector_id),
        standard=connector.standard,
        format=connector.format,
        power_type=connector.power_type,
        max_voltage=connector.max_voltage,
        max_amperage=connector.max_amperage,
        max_electric_power=connector.max_power_w,
        tariff_ids=[code] if code else [],
        last_updated=moment(connector.status_updated_at, site_changed),
    )


def _removed(operator: PartyRole, departed: DepartedEvseView) -> Evse:
    """An EVSE that left the Location: REMOVED, as OCPI asks instead of deleting it, with what
    it had when it left."""
    when = ocpi_datetime(departed.departed_at)
    return Evse(
        uid=str(departed.evse_row),
        evse_id=evse_id(operator, departed.evse_uid, departed.evse_row),
        status=EvseStatus.REMOVED,
        connectors=[
            Connector(
                id=str(plug.connector_id),
                standard=plug.standard,
                format=plug.format,
                power_type=plug.power_type,
                max_voltage=plug.max_voltage,
                max_amperage=plug.max_amperage,
                max_electric_power=plug.max_power_w,
                last_updated=when,
            )
            for plug in departed.connectors
        ],
        last_updated=when,
    )


def location(network: SiteNetwork, locations: Locations) -> Location:
    site, operator = network.site, locations.operator
    stations = {station.id: station for station in network.stations}
    evses = []
    for evse in network.evses:
        connectors = network.connectors_of(evse)
        if not connectors:  # OCPI: an EVSE has at least one connector
            continue
        shown = [_connector(each, locations.tariff_codes, site.changed_at) for each in connectors]
        evses.append(
            Evse(
                uid=str(evse.id),
                evse_id=evse_id(operator, evse.evse_uid, evse.id),
                status=evse_status(stations[evse.station_id], connectors),
                capabilities=CAPABILITIES,
                connectors=shown,
                parking_restrictions=[
                    ParkingRestriction(each) for each in site.parking_restrictions
                ],
                last_updated=max(each.last_updated for each in shown),
            )
        )
    # One that had no connector was never shown (see above), so is not shown as removed.
    evses += [_removed(operator, each) for each in network.departed if each.connectors]
    assert site.latitude is not None and site.longitude is not None
    return Location(
        country_code=operator.country_code,
        party_id=operator.party_id,
        id=str(site.id),
        publish=site.publish,
        name=site.name[:255],
        address=(site.address or "")[:255],
        city=(site.city or "")[:45],
        postal_code=site.postal_code[:10] if site.postal_code else None,
        country=site.country,
        coordinates=GeoLocation(
            latitude=coordinate(site.latitude), longitude=coordinate(site.longitude)
        ),
        parking_type=ParkingType(site.parking_type) if site.parking_type else None,
        evses=evses,
        operator=BusinessDetails(name=operator.name[:100]),
        time_zone=site.time_zone,
        opening_times=Hours.model_validate(site.opening_hours)
        if site.opening_hours
        else ALWAYS_OPEN,
        energy_mix=EnergyMix.model_validate(site.energy_mix) if site.energy_mix else None,
        last_updated=max(
            [each.last_updated for each in evses] + [moment(site.changed_at)],
        ),
    )


def locations(page: Locations) -> list[Location]:
    return [location(network, page) for network in page.sites]
