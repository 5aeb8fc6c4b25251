"""Built-in Quick Tools."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from vcore_app.schedulers.times import ScheduleError, check_cron, upcoming, zone
from vcore_app.tools import QuickTool, ToolFailed


class CronPreview(QuickTool):
    name = "cron-preview"
    title = "Cron preview"
    description = "See when a cron expression fires next, in any time zone, across DST changes."
    template = "tools/cron_preview.html"

    class Input(BaseModel):
        expression: str = Field(min_length=1, max_length=200, description="Five fields: minute hour day month weekday")
        timezone: str = Field(default="UTC", max_length=64, description="IANA time zone, e.g. Europe/Berlin")
        count: int = Field(default=10, ge=1, le=50, description="How many fire times to list")

    def run(self, data: Any) -> Any:
        try:
            expression, tz = check_cron(data.expression), zone(data.timezone)
        except ScheduleError as exc:
            raise ToolFailed(str(exc)) from None
        times = upcoming(expression, tz, datetime.now(UTC), data.count)
        return [
            {"local": t.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z"), "utc": t.strftime("%Y-%m-%d %H:%M UTC")}
            for t in times
        ]


class TextDigest(QuickTool):
    name = "text-digest"
    title = "Hash and Base64"
    description = "Hash a text (SHA-256, SHA-1, MD5) or encode and decode it as Base64."

    class Input(BaseModel):
        text: str = Field(max_length=100_000, description="The text to work on")
        operation: Literal["sha256", "sha1", "md5", "base64-encode", "base64-decode"] = "sha256"

    def run(self, data: Any) -> Any:
        raw = data.text.encode()
        if data.operation == "base64-encode":
            return base64.b64encode(raw).decode()
        if data.operation == "base64-decode":
            try:
                return base64.b64decode(raw, validate=True).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                raise ToolFailed("That is not valid Base64.") from None
        return hashlib.new(data.operation, raw).hexdigest()


def builtin_tools() -> list[type[QuickTool]]:
    """Our Quick Tools (registered through vcore_app/plugins/builtins.py); their modules load here,
    when the plugins are loaded, not when this module is imported."""
    from vcore_app.tools.ask_llm import AskLlm
    from vcore_app.tools.data_formats import DataFormats
    from vcore_app.tools.encoding import EncodeDecode, HmacTool, JwtDecoder
    from vcore_app.tools.git_status import GitStatus
    from vcore_app.tools.html_sanitizer import HtmlSanitizer
    from vcore_app.tools.identifiers import UuidTool
    from vcore_app.tools.network import CidrCalculator
    from vcore_app.tools.time_tools import TimestampConverter

    return [
        CronPreview,
        TextDigest,
        TimestampConverter,
        CidrCalculator,
        UuidTool,
        HtmlSanitizer,
        DataFormats,
        EncodeDecode,
        HmacTool,
        JwtDecoder,
        GitStatus,
        AskLlm,
    ]
