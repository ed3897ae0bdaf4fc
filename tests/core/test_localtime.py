"""Dutch days: what a school's agreement and a date filter count in, whatever the server's
clock zone (the rows and dates people read are in Dutch time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from broker import localtime


@pytest.mark.parametrize(("now", "day"), [
    (datetime(2026, 12, 7, 22, 59, tzinfo=UTC), date(2026, 12, 7)),
    (datetime(2026, 12, 7, 23, 0, tzinfo=UTC), date(2026, 12, 8)),  # midnight, UTC+1
    (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), date(2026, 7, 1)),  # midnight, UTC+2
])
def test_today_is_the_dutch_day(now: datetime, day: date) -> None:
    """An agreement whose last day was the 7th stops at midnight in the Netherlands, not an
    hour (in summer two) later."""
    assert localtime.today(now) == day


def test_a_day_begins_at_dutch_midnight() -> None:
    assert localtime.day_start(date(2026, 12, 8)) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert localtime.day_start(date(2026, 7, 1)) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert localtime.day_start(date.min) is None  # before any record: no bound
