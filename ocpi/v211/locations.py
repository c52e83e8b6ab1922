"""Our sites as OCPI 2.1.1 Locations: the same Locations as 2.2.1's (`ocpi.v221.locations`:
uids, statuses, removed EVSEs, timestamps), in 2.1.1's form.

What 2.1.1 cannot say is left out rather than said wrongly: a connector of a standard or a
power type 2.1.1 has no value for (GB/T, NEMA, pantographs, two-phase AC) is not listed, and
an EVSE left without connectors is not either. Texts become printable ASCII, as 2.1.1's
strings are (`Köln` is sent as `Koln`); the publish flag has no 2.1.1 field, so an
unpublished site goes to 2.1.1 partners as to 2.2.1 ones, and they are told about it in
docs/ocpi.md."""

from __future__ import annotations

from typing import Any

from app.roaming.models import Locations, PartyRole
from app.stations.models import ConnectorView, DepartedEvseView, PlugSnapshot, SiteNetwork
from app.stations.site_details import ParkingType
from ocpi.v211.models import (
    BusinessDetails,
    Capability,
    Connector,
    ConnectorType,
    EnergyMix,
    Evse,
    EvseStatus,
    GeoLocation,
    Hours,
    Location,
    LocationType,
    ParkingRestriction,
    PowerType,
    ocpi_datetime,
    printable_ascii,
)
from ocpi.v221.locations import CAPABILITIES, coordinate, evse_id, evse_status, moment

_STANDARDS = {each.value for each in ConnectorType}
_POWER_TYPES = {each.value for each in PowerType}
ALWAYS_OPEN = Hours(twentyfourseven=True)


# A site's parking type (OCPI 2.2.1 ParkingType) as 2.1.1's LocationType says it; none: UNKNOWN.
LOCATION_TYPES: dict[str, LocationType] = {
    ParkingType.ON_STREET: LocationType.ON_STREET,
    ParkingType.PARKING_GARAGE: LocationType.PARKING_GARAGE,
    ParkingType.UNDERGROUND_GARAGE: LocationType.UNDERGROUND_GARAGE,
    ParkingType.PARKING_LOT: LocationType.PARKING_LOT,
    ParkingType.ALONG_MOTORWAY: LocationType.OTHER,
    ParkingType.ON_DRIVEWAY: LocationType.OTHER,
}


def _connector(
    plug: ConnectorView | PlugSnapshot, tariff_code: str | None, last_updated: str
) -> Connector | None:
    if plug.standard not in _STANDARDS or plug.power_type not in _POWER_TYPES:
        return None
    return Connector(
        id=str(plug.connector_id),
        standard=ConnectorType(plug.standard),
        format=plug.format,
        power_type=PowerType(plug.power_type),
        voltage=plug.max_voltage,
        amperage=plug.max_amperage,
        tariff_id=tariff_code,
        last_updated=last_updated,
    )


def _removed(operator: PartyRole, departed: DepartedEvseView) -> Evse | None:
    when = ocpi_datetime(departed.departed_at)
    connectors = [
        shown for plug in departed.connectors if (shown := _connector(plug, None, when)) is not None
    ]
    if not connectors:
        return None
    return Evse(
        uid=str(departed.evse_row),
        evse_id=printable_ascii(evse_id(operator, departed.evse_uid, departed.evse_row), 48),
        status=EvseStatus.REMOVED,
        connectors=connectors,
        last_updated=when,
    )


def _hours(stored: dict[str, Any] | None) -> Hours | None:
    """Opening hours, stored in 2.2.1's form. 2.1.1 needs regular hours unless always open;
    2.2.1's 'not always open and no regular hours' (open only on exceptional days) has no
    2.1.1 form and is left out."""
    if not stored:
        return ALWAYS_OPEN
    if stored.get("twentyfourseven"):
        return Hours(
            twentyfourseven=True,
            exceptional_closings=stored.get("exceptional_closings", []),
        )
    if not stored.get("regular_hours"):
        return None
    return Hours.model_validate(stored)


def _energy_mix(stored: dict[str, Any] | None) -> EnergyMix | None:
    """An energy mix, stored in 2.2.1's form: 2.1.1 names an impact's category `source`."""
    if not stored:
        return None
    impacts = [
        {"source": each["category"], "amount": each["amount"]}
        for each in stored.get("environ_impact", [])
    ]
    names = {
        key: printable_ascii(stored[key], 64)
        for key in ("supplier_name", "energy_product_name")
        if stored.get(key)
    }
    return EnergyMix.model_validate({**stored, **names, "environ_impact": impacts})


def location(network: SiteNetwork, locations: Locations) -> Location:
    site, operator = network.site, locations.operator
    stations = {station.id: station for station in network.stations}
    evses: list[Evse] = []
    for evse in network.evses:
        plugs = network.connectors_of(evse)
        if not plugs:
            continue
        connectors = [
            shown
            for plug in plugs
            if (
                shown := _connector(
                    plug,
                    locations.tariff_codes.get(plug.id),
                    moment(plug.status_updated_at, site.changed_at),
                )
            )
            is not None
        ]
        if not connectors:  # none 2.1.1 can name
            continue
        evses.append(
            Evse(
                uid=str(evse.id),
                evse_id=printable_ascii(evse_id(operator, evse.evse_uid, evse.id), 48),
                status=evse_status(stations[evse.station_id], plugs),
                capabilities=[Capability(each.value) for each in CAPABILITIES],
                connectors=connectors,
                parking_restrictions=[
                    ParkingRestriction(each) for each in site.parking_restrictions
                ],
                last_updated=max(each.last_updated for each in connectors),
            )
        )
    removed = [_removed(operator, departed) for departed in network.departed]
    evses += [each for each in removed if each is not None]
    assert site.latitude is not None and site.longitude is not None
    return Location(
        id=str(site.id),
        type=LOCATION_TYPES.get(site.parking_type or "", LocationType.UNKNOWN),
        name=printable_ascii(site.name, 255),
        address=printable_ascii(site.address or "", 45),
        city=printable_ascii(site.city or "", 45),
        postal_code=printable_ascii(site.postal_code or "", 10),
        country=site.country,
        coordinates=GeoLocation(
            latitude=coordinate(site.latitude), longitude=coordinate(site.longitude)
        ),
        evses=evses,
        operator=BusinessDetails(name=printable_ascii(operator.name, 100)),
        time_zone=site.time_zone,
        opening_times=_hours(site.opening_hours),
        energy_mix=_energy_mix(site.energy_mix),
        last_updated=max([each.last_updated for each in evses] + [moment(site.changed_at)]),
    )


def location_bodies(page: Locations) -> list[dict[str, Any]]:
    return [
        location(network, page).model_dump(mode="json", exclude_none=True) for network in page.sites
    ]
