"""A receipt for a paid session, as HTML. Pure: everything it shows is handed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from app.tariffs.models import from_minor_units

PARTS = (
    ("energy", "Energy"),
    ("time", "Charging time"),
    ("parking", "Parking"),
    ("fixed", "Fixed fee"),
)


@dataclass(frozen=True, slots=True)
class ReceiptData:
    operator: str
    receipt_number: str
    location: dict[str, Any]  # station, EVSE, connector, the site's name and address
    time_zone: str
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    currency: str
    cost_breakdown: dict[str, Any]  # per part: excl_vat, incl_vat (minor units)
    total_excl_vat_minor: int
    total_incl_vat_minor: int
    payment_method: str
    captured_minor: int
    refunded_minor: int


def _money(amount_minor: int, currency: str) -> str:
    return f"{from_minor_units(amount_minor, currency)} {currency}"


def _local(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M %Z")


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"


def render_receipt(data: ReceiptData) -> str:
    """Operator, place, time, energy, each price part with its VAT, the total, how it was paid."""
    place = data.location
    address = ", ".join(
        str(part)
        for part in (
            place.get("name"),
            place.get("address"),
            place.get("postal_code"),
            place.get("city"),
            place.get("country"),
        )
        if part
    )
    point = (
        f"{place.get('station')} / EVSE {place.get('evse_id')}"
        f" / connector {place.get('connector_id')}"
    )
    money = data.currency
    parts = []
    for key, label in PARTS:
        cost = data.cost_breakdown.get(key) or {}
        excl, incl = int(cost.get("excl_vat") or 0), int(cost.get("incl_vat") or 0)
        if excl or incl:
            parts.append(
                f"<tr><td>{escape(label)}</td><td>{escape(_money(excl, money))}</td>"
                f"<td>{escape(_money(incl - excl, money))}</td>"
                f"<td>{escape(_money(incl, money))}</td></tr>"
            )
    vat = data.total_incl_vat_minor - data.total_excl_vat_minor
    details = "".join(
        [
            _row("Operator", data.operator),
            _row("Receipt", data.receipt_number),
            _row("Location", address or "-"),
            _row("Charge point", point),
            _row("Start", _local(data.started_at, data.time_zone)),
            _row("End", _local(data.ended_at, data.time_zone)),
            _row("Energy", f"{Decimal(data.energy_wh) / 1000:.3f} kWh"),
            _row("Paid with", data.payment_method),
            _row("Charged", _money(data.captured_minor, money)),
        ]
    )
    if data.refunded_minor:
        details += _row("Refunded", _money(data.refunded_minor, money))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Receipt {escape(data.receipt_number)}</title></head><body>"
        f"<h1>Charging receipt</h1><table>{details}</table>"
        "<table><thead><tr><th>Item</th><th>Excl. VAT</th><th>VAT</th><th>Incl. VAT</th>"
        f"</tr></thead><tbody>{''.join(parts)}</tbody><tfoot><tr><th>Total</th>"
        f"<td>{escape(_money(data.total_excl_vat_minor, money))}</td>"
        f"<td>{escape(_money(vat, money))}</td>"
        f"<td>{escape(_money(data.total_incl_vat_minor, money))}</td></tr></tfoot></table>"
        "</body></html>"
    )
