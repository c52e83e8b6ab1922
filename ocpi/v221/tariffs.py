"""Our tariffs as OCPI 2.2.1 Tariffs. They are stored OCPI-shaped already (decimals as exact
strings): numbers become JSON numbers, limits in minor units become Prices (excluding VAT; the
VAT-inclusive figure is left out, as OCPI says when it is not known)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.roaming.models import Tariffs
from app.tariffs.models import TariffView, from_minor_units
from ocpi.v221.models import Tariff, ocpi_datetime

# Stored as decimal strings, sent as numbers.
_NUMBERS = {
    "price",
    "vat",
    "min_kwh",
    "max_kwh",
    "min_current",
    "max_current",
    "min_power",
    "max_power",
    "excl_vat",
    "incl_vat",
}


def as_numbers(value: Any) -> Any:
    """Stored tariff JSON with its decimal strings as JSON numbers."""
    if isinstance(value, dict):
        return {
            key: float(Decimal(str(each)))
            if key in _NUMBERS and each is not None
            else as_numbers(each)
            for key, each in value.items()
        }
    if isinstance(value, list):
        return [as_numbers(each) for each in value]
    return value


def _price(amount_minor: int | None, currency: str) -> dict[str, float] | None:
    if amount_minor is None:
        return None
    return {"excl_vat": float(from_minor_units(amount_minor, currency))}


def tariff(view: TariffView, page: Tariffs) -> Tariff:
    return Tariff.model_validate(
        {
            "country_code": page.operator.country_code,
            "party_id": page.operator.party_id,
            "id": view.code,
            "currency": view.currency,
            "type": view.type,
            "tariff_alt_text": view.alt_text,
            "min_price": _price(view.min_price_minor, view.currency),
            "max_price": _price(view.max_price_minor, view.currency),
            "elements": as_numbers(view.elements),
            "start_date_time": ocpi_datetime(view.start_at) if view.start_at else None,
            "end_date_time": ocpi_datetime(view.end_at) if view.end_at else None,
            "last_updated": ocpi_datetime(view.updated_at),
        }
    )


def tariffs(page: Tariffs) -> list[dict[str, Any]]:
    return [tariff(view, page).model_dump(mode="json", exclude_none=True) for view in page.tariffs]
