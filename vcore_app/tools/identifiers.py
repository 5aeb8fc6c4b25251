"""The UUID generator (v4 random, v7 time-ordered) and inspector."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """RFC 9562 version 7: 48-bit Unix milliseconds, then random bits (the standard library has it
    only from Python 3.14)."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (ms & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant RFC 4122/9562
    return uuid.UUID(int=value)


class UuidTool(QuickTool):
    name = "uuid"
    title = "UUID generator and inspector"
    description = "Generate random (v4) or time-ordered (v7) UUIDs, or read the version, variant and time of one."

    class Input(BaseModel):
        operation: Literal["generate", "inspect"] = "generate"
        version: Literal["4", "7"] = Field("4", description="Which kind to generate")
        count: int = Field(1, ge=1, le=100, description="How many to generate")
        value: str = Field("", max_length=100, description="The UUID to inspect")

    def run(self, data: Any) -> Any:
        if data.operation == "generate":
            make = uuid.uuid4 if data.version == "4" else uuid7
            return {"uuids": [str(make()) for _ in range(data.count)]}
        try:
            parsed = uuid.UUID(data.value.strip())
        except ValueError:
            raise ToolFailed("That is not a UUID (32 hex digits, dashes optional)", field="value") from None
        info: dict[str, Any] = {
            "uuid": str(parsed),
            "version": parsed.version,
            "variant": parsed.variant,
            "hex": parsed.hex,
            "urn": parsed.urn,
        }
        if parsed.version == 7:
            info["time"] = datetime.fromtimestamp((parsed.int >> 80) / 1000, UTC).isoformat()
        elif parsed.version == 1:
            info["time"] = datetime.fromtimestamp((parsed.time - 0x01B21DD213814000) / 1e7, UTC).isoformat()
        return info
