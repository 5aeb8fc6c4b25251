"""The Script base class: what a built-in or plugin script defines.

A script is a subclass with a unique `name`, a one-line `description`, an `Input` pydantic model and
`run(input, ctx)`. It runs in a child process of the app, so it can be killed and cannot crash the
server; what it prints goes to the job's log, what it returns (JSON-serialisable) to the job's result.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

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


class Script:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def run(self, input: Any, ctx: ScriptContext) -> Any:
        raise NotImplementedError
