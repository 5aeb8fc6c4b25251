"""LLM helpers: one small client over OpenAI, Anthropic, Google Gemini, Groq and any OpenAI-compatible
local server (Ollama, LM Studio, vLLM), for scripts (`ctx.llm`), the `llm_prompt` script, the
"Ask an LLM" Quick Tool and "explain this failure".

    from vcore_app import llm
    result = llm.complete("Summarise: ...", settings=settings)       # .text, .usage
    for chunk in llm.complete("...", settings=settings, stream=True):  # text as it arrives
        ...

Nothing here is imported until first used: a user who never calls an LLM pays nothing at start
(tests/test_llm_client.py checks the app does not import client.py or providers.py).
Settings: OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY, GROQ_API_KEY, LLM_LOCAL_API_KEY, the
*_BASE_URL of each, LLM_DEFAULT_PROVIDER, LLM_DEFAULT_MODEL, LLM_TIMEOUT_SECONDS, LLM_MAX_RETRIES,
LLM_MAX_RETRY_WAIT_SECONDS (`vcore-app --help-settings`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vcore_app.llm.client import Result, Stream
    from vcore_app.settings import Settings

__all__ = ["complete", "failure_summary", "stream"]


def complete(prompt: str, *, settings: Settings | None = None, stream: bool = False, **options: Any) -> Result | Stream:
    """`LLM(settings).complete(...)`; without `settings`, the app's settings are read as the CLI does.
    Options: provider, model, system, max_tokens, temperature."""
    from vcore_app.llm.client import LLM

    client = LLM(settings or _load_settings())
    return client.stream(prompt, **options) if stream else client.complete(prompt, **options)


def stream(prompt: str, *, settings: Settings | None = None, **options: Any) -> Stream:
    """The answer's text chunk by chunk as it arrives; the `result` (usage) is set at the end."""
    from vcore_app.llm.client import LLM

    return LLM(settings or _load_settings()).stream(prompt, **options)


def failure_summary(
    job: Any, log_tail: str, *, settings: Settings | None = None, engine: Engine | None = None
) -> str | None:
    """For failure notifications: a short LLM summary, or None (NOTIFY_LLM_SUMMARY off, or the call
    failed; never raises). With `engine`, the call's tokens are counted for the job's creator.
    See explain.py."""
    from vcore_app.llm.explain import failure_summary as summary
    from vcore_app.llm.usage import recorder

    on_result = recorder(engine, purpose="summary", job_id=job.id) if engine is not None else None
    return summary(job, log_tail, settings=settings or _load_settings(), on_result=on_result)


def _load_settings() -> Settings:
    from vcore_app.settings import load_settings

    return load_settings()
