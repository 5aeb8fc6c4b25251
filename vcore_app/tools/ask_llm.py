"""Quick Tool "Ask an LLM": one prompt, the answer streamed to the page as it arrives.

For a quick question in the request; a prompt that should be scheduled, retried or kept belongs in
the `llm_prompt` script. Who may use it: whoever may run scripts (llm/usage.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from vcore_app.tools import StreamingTool, ToolContext, ToolFailed


class AskLlm(StreamingTool):
    name = "ask-llm"
    title = "Ask an LLM"
    description = "Ask OpenAI, Anthropic, Gemini, Groq or a local model; the answer appears as it is written."

    class Input(BaseModel):
        prompt: str = Field(min_length=1, max_length=50_000, description="Your question")
        provider: Literal["", "openai", "anthropic", "google", "groq", "local"] = Field(
            "", description="Provider (empty: the default one)"
        )
        model: str = Field("", max_length=128, description="Model (empty: the default one)")
        system: str = Field("", max_length=20_000, description="System prompt (optional)")
        max_tokens: int = Field(1024, ge=1, le=32_000, description="Longest answer, in tokens")

    def stream(self, data: Any, ctx: ToolContext) -> Iterator[str]:
        from vcore_app.llm.client import LLMError

        try:
            yield from ctx.llm.stream(
                data.prompt,
                provider=data.provider or None,
                model=data.model or None,
                system=data.system or None,
                max_tokens=data.max_tokens,
            )
        except LLMError as exc:
            raise ToolFailed(exc.message) from None
