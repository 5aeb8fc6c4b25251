"""The timestamp and time zone converter: one instant as epoch seconds, milliseconds, UTC and any zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed

# Epoch numbers above this are taken as milliseconds (year 2286 in seconds; 1973 in milliseconds).
_MILLISECONDS_FROM = 10_000_000_000


def _zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolFailed(f"Unknown IANA time zone {name!r} (e.g. UTC, Europe/Berlin)", field=field) from None


def parse_instant(value: str, assume: ZoneInfo) -> datetime:
    """`now`, epoch seconds or milliseconds, or an ISO 8601 date-time (naive ones are in `assume`)."""
    text = value.strip()
    if text.lower() == "now":
        return datetime.now(UTC)
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        seconds = number / 1000 if abs(number) >= _MILLISECONDS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ToolFailed("That timestamp is out of range", field="value") from None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ToolFailed(
            "Expected `now`, epoch seconds or milliseconds, or an ISO 8601 date-time such as 2026-03-01T13:00:00+01:00",
            field="value",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=assume)


class TimestampConverter(QuickTool):
    name = "timestamp"
    title = "Timestamp and time zones"
    description = "Turn epoch seconds, milliseconds or an ISO date-time into every other form, in any time zone."

    class Input(BaseModel):
        value: str = Field(
            min_length=1, max_length=64, description="now, 1767225600, 1767225600000 or 2026-01-01T00:00:00Z"
        )
        from_timezone: str = Field("UTC", max_length=64, description="Zone of a date-time given without an offset")
        to_timezone: str = Field("UTC", max_length=64, description="IANA time zone to show it in, e.g. Asia/Tokyo")

    def run(self, data: Any) -> Any:
        source, target = _zone(data.from_timezone, "from_timezone"), _zone(data.to_timezone, "to_timezone")
        instant = parse_instant(data.value, source)
        local = instant.astimezone(target)
        return {
            "epoch_seconds": int(instant.timestamp()),
            "epoch_milliseconds": int(instant.timestamp() * 1000),
            "utc": instant.astimezone(UTC).isoformat(),
            "local": local.isoformat(),
            "zone": data.to_timezone,
            "zone_abbreviation": local.tzname(),
            "utc_offset_hours": (local.utcoffset() or UTC.utcoffset(None)).total_seconds() / 3600,
        }
