"""The Script base class: what a built-in or plugin script defines.

A script is a subclass with a unique `name`, a one-line `description`, an `Input` pydantic model and
`run(input, ctx)`. It runs in a child process of the app, so it can be killed and cannot crash the
server; what it prints goes to the job's log, what it returns (JSON-serialisable) to the job's result.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROGRESS_PREFIX = "##vcore-progress "
"""A log line starting with this carries `{"percent": ..., "message": ...}`: the job page turns the
latest one into its progress bar (it arrives like any log line, live over the WebSocket)."""

if TYPE_CHECKING:
    from vcore_app.llm.client import LLM


class ScriptError(Exception):
    """Raise to fail the job with this one-line message. `permanent`: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class ScriptContext:
    """What a running script knows about its job, and what it can use (`ctx.llm`)."""

    job_id: int | None
    attempt: int | None
    data_dir: Path | None = None

    def log(self, message: str) -> None:
        """One line to the job's log (plain `print` works too)."""
        print(message, flush=True)
        sys.stdout.flush()

    @cached_property
    def llm(self) -> LLM:
        """The LLM client (vcore_app/llm/) with the app's settings; its calls count for the job's creator.
        Built on first use, so a script that never asks pays nothing."""
        from vcore_app.llm.usage import client_for_job

        return client_for_job(data_dir=self.data_dir, job_id=self.job_id)

    def progress(self, percent: float, message: str = "") -> None:
        """Report how far the script is (0-100) and what it does now: a progress bar on the job page."""
        value = max(0.0, min(100.0, float(percent)))
        print(PROGRESS_PREFIX + json.dumps({"percent": value, "message": message[:200]}), flush=True)


class Output(BaseModel):
    """A result the job page shows as a sortable table instead of raw JSON, and as a line chart of
    the `series` columns (numbers) along `x` when both are given. Return it from `run`."""

    records: list[dict[str, Any]]
    series: list[str] = Field(default_factory=list, description="Numeric columns to draw as a chart")
    x: str | None = Field(None, description="The column along the chart's horizontal axis")

    def as_result(self) -> dict[str, Any]:
        """The JSON stored as the job's output; `"kind": "table"` tells the job page how to show it."""
        return {"kind": "table", **self.model_dump(mode="json")}


class Script:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def run(self, input: Any, ctx: ScriptContext) -> Any:
        raise NotImplementedError
