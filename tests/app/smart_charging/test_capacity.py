"""What a site may draw at a moment: its grid capacity lowered by the events in force."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.smart_charging.capacity import capacity_at
from app.smart_charging.models import DemandResponseEventView

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


def event(start_h: float, end_h: float, limit: str) -> DemandResponseEventView:
    return DemandResponseEventView(
        id=1,
        site_id=1,
        starts_at=NOON + timedelta(hours=start_h),
        ends_at=NOON + timedelta(hours=end_h),
        limit_a=Decimal(limit),
        source="operator",
        cancelled=False,
        created_at=NOON,
    )


def test_the_lowest_of_the_grid_capacity_and_the_events_in_force_applies() -> None:
    events = [event(-1, 1, "80"), event(0, 2, "50"), event(1, 3, "10")]
    assert capacity_at(100, events, NOON) == Decimal(50)
    assert capacity_at(40, events, NOON) == Decimal(40)
    assert capacity_at(100, events, NOON + timedelta(hours=1)) == Decimal(10)


def test_an_event_is_in_force_from_its_start_until_just_before_its_end() -> None:
    events = [event(0, 1, "20")]
    assert capacity_at(100, events, NOON) == Decimal(20)
    assert capacity_at(100, events, NOON + timedelta(hours=1)) == Decimal(100)
    assert capacity_at(100, events, NOON - timedelta(seconds=1)) == Decimal(100)


def test_nothing_limits_a_site_without_a_capacity_or_events_in_force() -> None:
    assert capacity_at(None, [event(1, 2, "20")], NOON) is None
    assert capacity_at(None, [event(0, 2, "20")], NOON) == Decimal(20)
