"""Built-in script: is a URL up, and does it answer with the expected status?"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from vcore_app.scripts.base import Script, ScriptContext, ScriptError


class HttpCheck(Script):
    name = "http_check"
    description = "GET a URL and fail unless it answers with the expected status."

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")
        url: str = Field(pattern=r"^https?://", title="URL", description="URL to fetch.")
        expect_status: int = Field(
            200, ge=100, le=599, title="Expected status", description="HTTP status that counts as up."
        )
        timeout_seconds: float = Field(10, gt=0, le=300, title="Timeout (seconds)", description="Request timeout.")

    def run(self, input: Input, ctx: ScriptContext) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = httpx.get(input.url, timeout=input.timeout_seconds)
        except httpx.HTTPError as exc:
            raise ScriptError(f"{input.url}: {exc or type(exc).__name__}") from None
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        ctx.log(f"GET {input.url} -> {response.status_code} in {elapsed_ms} ms")
        if response.status_code != input.expect_status:
            raise ScriptError(f"{input.url} answered {response.status_code}, expected {input.expect_status}")
        return {"url": input.url, "status_code": response.status_code, "elapsed_ms": elapsed_ms}
