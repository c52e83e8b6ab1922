"""Our tariffs as OCPI 2.1.1 Tariffs: the 2.2.1 Tariff (`ocpi.v221.tariffs`) without what
2.1.1 has no field for.

Prices are excluding VAT in both versions, so they stay; the VAT rate, the tariff's type,
its minimum and maximum price and its validity period have no 2.1.1 field and are left out.
An element that applies only to reservations or within a current range cannot say so in
2.1.1: it is left out (sent without its restriction, it would price what it does not
price). A tariff with no element left is not sent at all."""

from __future__ import annotations

from typing import Any

from app.roaming.models import Tariffs
from app.tariffs.models import TariffView
from ocpi.v211.models import Tariff, ocpi_datetime, printable_ascii
from ocpi.v221.tariffs import as_numbers
from ocpi.wire import NotSendable

_UNSAYABLE = {"reservation", "min_current", "max_current"}


def tariff_element(element: dict[str, Any]) -> dict[str, Any] | None:
    """An element as 2.1.1 says it; None when 2.1.1 cannot say when it applies."""
    restrictions = element.get("restrictions") or {}
    if _UNSAYABLE & {key for key, value in restrictions.items() if value is not None}:
        return None
    shown: dict[str, Any] = {
        "price_components": [
            {key: value for key, value in each.items() if key != "vat"}
            for each in element["price_components"]
        ]
    }
    if restrictions:
        shown["restrictions"] = restrictions
    return shown


def tariff(view: TariffView, page: Tariffs) -> Tariff:
    elements = [shown for each in view.elements if (shown := tariff_element(each)) is not None]
    if not elements:
        raise NotSendable(f"tariff {view.code}: no element OCPI 2.1.1 can express")
    return Tariff.model_validate(
        {
            "id": view.code,
            "currency": view.currency,
            "tariff_alt_text": [
                {**each, "text": printable_ascii(str(each.get("text", "")), 512)}
                for each in view.alt_text
            ],
            "elements": as_numbers(elements),
            "last_updated": ocpi_datetime(view.updated_at),
        }
    )


def tariff_bodies(page: Tariffs) -> list[dict[str, Any]]:
    """A page of tariffs; one 2.1.1 cannot express is left out of the page."""
    shown = []
    for view in page.tariffs:
        try:
            shown.append(tariff(view, page).model_dump(mode="json", exclude_none=True))
        except NotSendable:
            continue
    return shown
