"""A roaming partner's limit on its driver's session, as the most load balancing may offer."""

from decimal import Decimal

from app.smart_charging.balancing import lowest_current_a


def test_a_partners_schedule_gives_its_lowest_current_per_phase() -> None:
    amperes = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16},
            {"startPeriod": 60, "limit": 10.55},
        ],
    }
    assert lowest_current_a(amperes) == Decimal("10.5")
    watts = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000},
            {"startPeriod": 60, "limit": 3680, "numberPhases": 1},
        ],
    }
    # 11 kW over 3 phases at 230 V is 15.9 A; 3.68 kW on one, 16 A.
    assert lowest_current_a(watts) == Decimal("15.9")
    nonsense = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"limit": "x"}, {"startPeriod": 0}],
    }
    assert lowest_current_a(nonsense) is None
