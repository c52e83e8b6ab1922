"""Receipts: every price part with its VAT, the total, local times, and nothing unescaped."""

from datetime import UTC, datetime

from app.billing.receipts import ReceiptData, render_receipt


def receipt(**changes) -> str:
    data = {
        "operator": "Acme <Charging>",
        "receipt_number": "R0000000042",
        "location": {"name": "Mitte", "city": "Berlin", "station": "CP-1", "evse_id": 1},
        "time_zone": "Europe/Berlin",
        "started_at": datetime(2026, 7, 1, 7, 0, tzinfo=UTC),
        "ended_at": datetime(2026, 7, 1, 8, 30, tzinfo=UTC),
        "energy_wh": 12345,
        "currency": "EUR",
        "cost_breakdown": {
            "energy": {"excl_vat": 481, "incl_vat": 572},
            "fixed": {"excl_vat": 50, "incl_vat": 60},
            "time": {"excl_vat": 0, "incl_vat": 0},
        },
        "total_excl_vat_minor": 531,
        "total_incl_vat_minor": 632,
        "payment_method": "Card (stripe pi_1)",
        "captured_minor": 632,
        "refunded_minor": 0,
        **changes,
    }
    return render_receipt(ReceiptData(**data))


def test_a_receipt_lists_each_part_and_the_total_in_local_time():
    page = receipt()
    assert "<td>Energy</td><td>4.81 EUR</td><td>0.91 EUR</td><td>5.72 EUR</td>" in page
    assert "<td>Fixed fee</td><td>0.50 EUR</td><td>0.10 EUR</td><td>0.60 EUR</td>" in page
    assert "Charging time" not in page  # nothing to pay for it
    assert "<td>5.31 EUR</td><td>1.01 EUR</td><td>6.32 EUR</td>" in page
    assert "2026-07-01 09:00 CEST" in page and "12.345 kWh" in page
    assert "Refunded" not in page


def test_a_receipt_escapes_what_people_typed_and_shows_refunds():
    page = receipt(refunded_minor=100, currency="JPY", total_incl_vat_minor=632)
    assert "Acme &lt;Charging&gt;" in page and "<Charging>" not in page
    assert "100 JPY" in page  # no minor unit in yen
