"""Dutch time, for what pupils, parents and school staff read: times and calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # no time zone database on this machine
    LOCAL_TIME = ZoneInfo("UTC")


def today(now: datetime | None = None) -> date:
    """Today (at `now`, else now) in Dutch time: the day a processing agreement's last day
    (valid_until) is, and the day a form's "not in the past" means."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TIME).date()


def months(year: int) -> list[tuple[date, datetime, datetime]]:
    """(first day, start, end) of each month of `year` in Dutch time; end exclusive, in UTC."""
    starts = [datetime(year, m, 1, tzinfo=LOCAL_TIME) for m in range(1, 13)]
    starts.append(datetime(year + 1, 1, 1, tzinfo=LOCAL_TIME))
    return [(a.date(), a.astimezone(UTC), b.astimezone(UTC))
            for a, b in zip(starts, starts[1:], strict=False)]


def day_start(day: date) -> datetime | None:
    """When `day` begins in Dutch time, in UTC (what a filter "from this day" means to a
    reader of Dutch times); None for the first day there is, which began before any record."""
    return None if day == date.min else datetime.combine(day, time(), LOCAL_TIME).astimezone(UTC)
