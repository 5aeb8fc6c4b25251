"""Cron and repeat fire times, across DST changes, with no clock involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vcore_app.schedulers.times import (
    ScheduleError,
    check_cron,
    next_repeat_time,
    upcoming,
)

UTC = UTC


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


def fire_times(expression: str, zone: str, start: datetime, count: int) -> list[str]:
    return [
        t.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z")
        for t in upcoming(expression, ZoneInfo(zone), start, count)
    ]


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # Spring forward: 02:30 does not exist that night; it runs once, when the clock reaches 03:00.
        ("America/Chicago", local("America/Chicago", 2026, 3, 7, 12), ["03-08 03:00 CDT", "03-09 02:30 CDT"]),
        ("Europe/Berlin", local("Europe/Berlin", 2026, 3, 28, 12), ["03-29 03:00 CEST", "03-30 02:30 CEST"]),
        # Fall back: 01:30 / 02:30 happens twice; it runs once, at the first.
        ("America/Chicago", local("America/Chicago", 2026, 10, 31, 12), ["11-01 01:30 CDT", "11-02 01:30 CST"]),
        ("Europe/Berlin", local("Europe/Berlin", 2026, 10, 24, 12), ["10-25 02:30 CEST", "10-26 02:30 CET"]),
    ],
)
def test_a_daily_job_in_the_dst_hour_runs_exactly_once_per_day(zone: str, start: datetime, expected: list[str]) -> None:
    hour = "1" if zone == "America/Chicago" and start.month == 10 else "2"
    assert fire_times(f"30 {hour} * * *", zone, start, 2) == expected


def test_every_15_minutes_across_spring_forward_skips_the_missing_hour_and_fires_once_at_its_end() -> None:
    times = fire_times("*/15 * * * *", "America/Chicago", local("America/Chicago", 2026, 3, 8, 1, 40), 4)
    assert times == ["03-08 01:45 CST", "03-08 03:00 CDT", "03-08 03:15 CDT", "03-08 03:30 CDT"]


def test_every_30_minutes_across_fall_back_covers_both_passes_of_the_hour_without_repeating_a_wall_time() -> None:
    times = fire_times("*/30 * * * *", "Europe/Berlin", local("Europe/Berlin", 2026, 10, 25, 1, 50), 4)
    assert times == ["10-25 02:00 CEST", "10-25 02:30 CEST", "10-25 03:00 CET", "10-25 03:30 CET"]


def test_fire_times_are_strictly_after_the_given_instant() -> None:
    start = local("UTC", 2026, 1, 1, 10, 0)
    assert upcoming("0 10 * * *", ZoneInfo("UTC"), start, 1)[0] == local("UTC", 2026, 1, 2, 10, 0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "not a valid cron expression"),
        ("*/0 * * * *", "not a valid cron expression"),
        ("* * * * * *", "expected 5 fields"),
        ("", "empty"),
        ("0 0 31 2 *", "never fires"),
    ],
)
def test_bad_cron_expressions_are_refused_with_a_reason(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_cron(expression)


def test_repeat_slots_come_from_the_plan_not_from_when_the_last_run_happened() -> None:
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    late = anchor + timedelta(seconds=10, milliseconds=700)  # woke 0.7 s late for the 10 s slot
    assert next_repeat_time(anchor, 5, late) == anchor + timedelta(seconds=15)
    assert next_repeat_time(anchor, 5, anchor - timedelta(seconds=3)) == anchor
