"""Built-in script `llm_prompt`: ask an LLM as a job, so the call can be scheduled (a daily summary),
retried and timed out like any job. The answer streams into the job's log as it arrives; the text
and the token usage are the job's result.

The job log keeps whole lines, so the answer is written line by line: at each newline, and a long
line is cut at a space once it passes LINE_WIDTH characters, so a one-paragraph answer still shows
up while it is being written. The result keeps the text exactly as the provider sent it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vcore_app.scripts.base import Script, ScriptContext, ScriptError

LINE_WIDTH = 100


class LlmPrompt(Script):
    name = "llm_prompt"
    description = "Ask an LLM. The answer streams into the log; the text and the token usage are the result."

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")
        prompt: str = Field(min_length=1, max_length=200_000, description="What to ask.")
        provider: Literal["openai", "anthropic", "google", "groq", "local"] | None = Field(
            None, description="Provider (default: LLM_DEFAULT_PROVIDER)."
        )
        model: str | None = Field(
            None, max_length=128, description="Model (default: LLM_DEFAULT_MODEL or the provider's)."
        )
        system: str | None = Field(None, max_length=20_000, description="System prompt: how to answer.")
        max_tokens: int = Field(1024, ge=1, le=200_000, description="Longest answer, in tokens.")
        temperature: float | None = Field(
            None, ge=0, le=2, description="Sampling temperature (default: the provider's)."
        )

    def run(self, input: Input, ctx: ScriptContext) -> dict[str, Any]:
        from vcore_app.llm.client import LLMError

        lines = LineWriter(ctx.log)
        try:
            stream = ctx.llm.stream(
                input.prompt,
                provider=input.provider,
                model=input.model,
                system=input.system,
                max_tokens=input.max_tokens,
                temperature=input.temperature,
            )
            for chunk in stream:
                lines.write(chunk)
        except LLMError as exc:
            lines.flush()
            # Asking again cannot fix a missing or rejected key, an unknown model or provider.
            permanent = exc.status in (400, 422) or (exc.provider_status or 0) in (400, 401, 403, 404)
            raise ScriptError(exc.message, permanent=permanent) from None
        lines.flush()
        assert stream.result is not None
        usage = stream.result.usage
        ctx.log(
            f"[llm] {usage['provider']} {usage['model']}: {usage['input_tokens']} tokens in, "
            f"{usage['output_tokens']} out, {usage['latency_ms']:.0f} ms"
        )
        return {"text": stream.result.text, "usage": usage}


class LineWriter:
    """Text chunks in, whole lines out (see the module docstring)."""

    def __init__(self, emit: Callable[[str], None], width: int = LINE_WIDTH) -> None:
        self._emit, self._width, self._buffer = emit, width, ""

    def write(self, chunk: str) -> None:
        self._buffer += chunk
        *done, self._buffer = self._buffer.split("\n")
        for line in done:
            self._emit(line)
        while len(self._buffer) > self._width and (cut := self._buffer.rfind(" ", 0, self._width + 1)) > 0:
            self._emit(self._buffer[:cut])
            self._buffer = self._buffer[cut + 1 :]

    def flush(self) -> None:
        if self._buffer:
            self._emit(self._buffer)
            self._buffer = ""
