"""When schedulers fire: cron and repeat slots, DST, misfires. Pure functions of time, no I/O.

Cron expressions are iterated in *wall time* of the scheduler's zone (croniter on naive datetimes)
and each wall time is then placed on the UTC line:
- a wall time that does not exist (spring forward) runs once, at the first instant after the gap;
- a wall time that exists twice (fall back) runs once, at its first occurrence.
Every function takes and returns aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

UTC = UTC
# A slot missed by more than this (the app was down, the machine slept) is a misfire.
MISFIRE_GRACE = timedelta(seconds=60)
_SEARCH_LIMIT = 5000  # cron candidates examined before we say an expression never fires


class ScheduleError(ValueError):
    """The expression or zone is not usable; the message says why in one sentence."""


def check_cron(expression: str) -> str:
    """Validate a 5-field cron expression (or an @alias); return it normalised."""
    expression = " ".join(expression.split())
    if not expression:
        raise ScheduleError("cron expression is empty")
    if not expression.startswith("@") and len(expression.split()) != 5:
        raise ScheduleError(f"expected 5 fields (minute hour day month weekday), got {len(expression.split())}")
    from croniter import (
        croniter,  # ~75 ms to import: paid when cron is first used, not at every start
    )

    if not croniter.is_valid(expression):
        raise ScheduleError(f"not a valid cron expression: {expression!r}")
    if next_cron_time(expression, ZoneInfo("UTC"), datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise ScheduleError(f"cron expression {expression!r} never fires")
    return expression


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # OSError: a tzdata folder such as "America"
        raise ScheduleError(f"unknown time zone {name!r}") from None


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    placed = wall.replace(tzinfo=tz)
    return placed.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Place a naive wall time of `tz` on the UTC line (gap: first instant after it; overlap: first)."""
    if not _exists(wall, tz):
        probe = wall.replace(second=0, microsecond=0)
        while not _exists(probe, tz):  # gaps are at most a few hours: minutes to walk are few
            probe += timedelta(minutes=1)
        wall = probe
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_cron_time(expression: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`, or None if there is none within the search limit."""
    wall_after = after.astimezone(tz).replace(tzinfo=None)
    # Start an hour back in wall time: after a fall-back, the second pass of an hour reads earlier.
    from croniter import croniter

    walls = croniter(expression, wall_after - timedelta(hours=1))
    for _ in range(_SEARCH_LIMIT):
        try:
            instant = wall_to_utc(walls.get_next(datetime), tz)
        except Exception:  # croniter gives up on dates it cannot reach (e.g. 31 February)
            return None
        if instant > after:
            return instant
    return None


def next_repeat_time(anchor: datetime, every_seconds: int, after: datetime) -> datetime:
    """The first slot `anchor + k * every` strictly after `after`: planned times, so no drift."""
    if after < anchor:
        return anchor
    steps = int((after - anchor).total_seconds() // every_seconds) + 1
    return anchor + timedelta(seconds=steps * every_seconds)


def upcoming(expression: str, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    times: list[datetime] = []
    cursor = after
    while len(times) < count:
        following = next_cron_time(expression, tz, cursor)
        if following is None:
            break
        times.append(following)
        cursor = following
    return times


def is_misfire(due: datetime, now: datetime) -> bool:
    return now - due > MISFIRE_GRACE
