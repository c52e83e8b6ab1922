"""Demo data: one operator with sites, stations, connectors, tariffs and id tokens.

Every row is found by its natural key before it is created, so loading twice changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from piccolo.table import Table

from app.auth.passwords import hash_password
from app.unit_of_work import UnitOfWork
from db.tables import (
    ChargingStation,
    Connector,
    Evse,
    IdToken,
    Organization,
    Site,
    Tariff,
    TariffAssignment,
    User,
)

T = TypeVar("T", bound=Table)

DEMO_ORGANIZATION_SLUG = "demo"
# Users `<role>@demo.example` log in with this password: demo data only, never production.
DEMO_PASSWORD = "cpms-demo"
DEMO_ROLES = ("admin", "operator", "viewer", "driver")

SITES: list[dict[str, Any]] = [
    {
        "name": "Berlin Mitte Garage",
        "address": "Friedrichstraße 100",
        "city": "Berlin",
        "postal_code": "10117",
        "country": "DEU",
        "latitude": Decimal("52.520008"),
        "longitude": Decimal("13.388889"),
        "time_zone": "Europe/Berlin",
        "grid_capacity_a": 250,
    },
    {
        "name": "Hamburg Hafen Fast Hub",
        "address": "Am Sandtorkai 1",
        "city": "Hamburg",
        "postal_code": "20457",
        "country": "DEU",
        "latitude": Decimal("53.543764"),
        "longitude": Decimal("9.990590"),
        "time_zone": "Europe/Berlin",
        "grid_capacity_a": 630,
    },
    {
        "name": "Amsterdam Zuid Office",
        "address": "Gustav Mahlerlaan 10",
        "city": "Amsterdam",
        "postal_code": "1082 PP",
        "country": "NLD",
        "latitude": Decimal("52.339500"),
        "longitude": Decimal("4.873400"),
        "time_zone": "Europe/Amsterdam",
        "grid_capacity_a": 160,
    },
]

AC_CONNECTOR: dict[str, Any] = {
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "max_voltage": 400,
    "max_amperage": 32,
    "max_power_w": 22000,
}
DC_CONNECTOR: dict[str, Any] = {
    "standard": "IEC_62196_T2_COMBO",
    "format": "CABLE",
    "power_type": "DC",
    "max_voltage": 920,
    "max_amperage": 500,
    "max_power_w": 300000,
}

# (site index, identity, name, vendor, model, protocol, number of EVSEs, connector spec)
STATIONS: list[tuple[int, str, str, str, str, str, int, dict[str, Any]]] = [
    (0, "DEMO-BER-AC-01", "Level -1, bay 1-2", "ABB", "Terra AC W22", "ocpp1.6", 2, AC_CONNECTOR),
    (0, "DEMO-BER-AC-02", "Level -1, bay 3-4", "ABB", "Terra AC W22", "ocpp1.6", 2, AC_CONNECTOR),
    (1, "DEMO-HAM-DC-01", "Lane A", "Alpitronic", "HYC300", "ocpp2.0.1", 2, DC_CONNECTOR),
    (1, "DEMO-HAM-DC-02", "Lane B", "Alpitronic", "HYC300", "ocpp2.0.1", 2, DC_CONNECTOR),
    (2, "DEMO-AMS-AC-01", "Visitors", "Alfen", "Eve Double Pro", "ocpp1.6", 2, AC_CONNECTOR),
]


def _price(price_per_unit: str, vat: str, step_size: int, dimension: str) -> dict[str, Any]:
    return {"type": dimension, "price": price_per_unit, "vat": vat, "step_size": step_size}


TARIFFS: list[dict[str, Any]] = [
    {
        "code": "DEMO-AC-STANDARD",
        "name": "AC standard",
        "currency": "EUR",
        "type": "REGULAR",
        "elements": [
            {"price_components": [_price("0.39", "19.0", 1, "ENERGY")]},
            {
                # Idle fee after 4 hours, to keep bays free.
                "price_components": [_price("6.00", "19.0", 60, "PARKING_TIME")],
                "restrictions": {"min_duration": 14400},
            },
        ],
        "alt_text": [{"language": "en", "text": "0.39 EUR/kWh; 6.00 EUR/h idle after 4 h"}],
    },
    {
        "code": "DEMO-DC-FAST",
        "name": "DC fast, time of use",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "elements": [
            {
                "price_components": [_price("0.49", "19.0", 1, "ENERGY")],
                "restrictions": {"start_time": "22:00", "end_time": "06:00"},
            },
            {"price_components": [_price("0.59", "19.0", 1, "ENERGY")]},
            {"price_components": [_price("0.50", "19.0", 1, "FLAT")]},
        ],
        "alt_text": [
            {"language": "en", "text": "0.59 EUR/kWh, 0.49 EUR/kWh 22-06h, 0.50 EUR per session"}
        ],
    },
]

ID_TOKENS: list[dict[str, Any]] = [
    {"uid": "04A2B3C4D5E6F7", "type": "ISO14443", "visual_number": "DEMO-0001"},
    {"uid": "04B1C2D3E4F506", "type": "ISO14443", "visual_number": "DEMO-0002"},
    {"uid": "DEMO-APP-USER-1", "type": "Central", "visual_number": None},
    {"uid": "04DEADBEEF0000", "type": "ISO14443", "visual_number": "BLOCKED", "status": "Blocked"},
]


async def _find_or_create(table: type[T], key: dict[str, Any], values: dict[str, Any]) -> T:
    """The row whose natural key matches, or a new one with those values."""
    query = table.objects()
    for column_name, value in key.items():
        query = query.where(table._meta.get_column_by_name(column_name) == value)
    existing = await query.first()
    if existing is not None:
        return existing
    row = table(**{**values, **key})
    await row.save()
    return row


async def load_demo(uow: UnitOfWork) -> Organization:
    """Create the demo operator and its data, or leave it as it is if it exists."""
    async with uow:
        organization = await _find_or_create(
            Organization,
            {"slug": DEMO_ORGANIZATION_SLUG},
            {
                "name": "Demo Charging GmbH",
                "unknown_station_policy": "pending",
                "country_code": "DE",
                "party_id": "DMO",
            },
        )
        owner = {"organization": organization.id}
        users = {
            role: await _find_or_create(
                User,
                {**owner, "email": f"{role}@demo.example"},
                {
                    "name": f"Demo {role.capitalize()}",
                    "role": role,
                    "password_hash": hash_password(DEMO_PASSWORD),
                },
            )
            for role in DEMO_ROLES
        }
        driver = users["driver"]
        # A deleted demo site (kept for roaming partners) is not found again: a new one is made.
        live = {**owner, "deleted_at": None}
        sites = [
            await _find_or_create(Site, {**live, "name": site["name"]}, site) for site in SITES
        ]
        tariffs = [
            await _find_or_create(Tariff, {**owner, "code": tariff["code"]}, tariff)
            for tariff in TARIFFS
        ]
        await _find_or_create(
            TariffAssignment,
            {**owner, "tariff": tariffs[0].id, "site": None, "station": None},
            {},
        )
        for site_index, identity, name, vendor, model, protocol, evses, connector in STATIONS:
            station = await _find_or_create(
                ChargingStation,
                {"identity": identity},
                {
                    **owner,
                    "site": sites[site_index].id,
                    "name": name,
                    "vendor": vendor,
                    "model": model,
                    "protocol": protocol,
                },
            )
            if connector is DC_CONNECTOR:
                await _find_or_create(
                    TariffAssignment,
                    {**owner, "tariff": tariffs[1].id, "site": sites[site_index].id},
                    {},
                )
            for evse_number in range(1, evses + 1):
                evse = await _find_or_create(
                    Evse,
                    {"station": station.id, "evse_id": evse_number},
                    {"max_power_w": connector["max_power_w"]},
                )
                await _find_or_create(
                    Connector,
                    {"evse": evse.id, "connector_id": 1},
                    {"station": station.id, **connector},
                )
        for token in ID_TOKENS:
            values = {k: v for k, v in token.items() if k not in ("uid", "type")}
            if token["type"] == "Central":
                values["user"] = driver.id
            await _find_or_create(
                IdToken, {**owner, "uid": token["uid"], "type": token["type"]}, values
            )
    return organization
