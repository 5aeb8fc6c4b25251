"""The providers and their two wire formats: OpenAI chat completions (OpenAI, Gemini's and Groq's
OpenAI-compatible endpoints, local servers such as Ollama, LM Studio and vLLM) and Anthropic messages.

Only what a one-shot prompt needs: build the request, read a whole reply, read one streamed event,
read an error body. Everything about HTTP (retries, timeouts, keys in messages) is in client.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    key_setting: str
    url_setting: str
    default_model: str
    dialect: Literal["openai", "anthropic"]
    key_required: bool = True


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider("openai", "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "gpt-4o-mini", "openai"),
        Provider(
            "anthropic", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "claude-3-5-haiku-latest", "anthropic"
        ),
        Provider("google", "Google Gemini", "GOOGLE_API_KEY", "GOOGLE_BASE_URL", "gemini-2.0-flash", "openai"),
        Provider("groq", "Groq", "GROQ_API_KEY", "GROQ_BASE_URL", "llama-3.1-8b-instant", "openai"),
        # Ollama and LM Studio want no key; vLLM may (`--api-key`).
        Provider(
            "local", "Local server", "LLM_LOCAL_API_KEY", "LLM_LOCAL_BASE_URL", "llama3.2", "openai", key_required=False
        ),
    )
}


@dataclass
class Reply:
    """What a reply (or the events of a stream so far) said."""

    text: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    done: bool = False


class StreamFailed(Exception):
    """The provider reported an error inside a stream that had started well."""


def build_request(
    provider: Provider,
    *,
    key: str,
    model: str,
    prompt: str,
    system: str | None,
    max_tokens: int,
    temperature: float | None,
    stream: bool,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(path under the base URL, headers, JSON body)."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if temperature is not None:
        body["temperature"] = temperature
    if stream:
        body["stream"] = True
    if provider.dialect == "anthropic":
        body["messages"] = [{"role": "user", "content": prompt}]
        if system:
            body["system"] = system
        return "/v1/messages", {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}, body
    messages = [{"role": "system", "content": system}] if system else []
    body["messages"] = [*messages, {"role": "user", "content": prompt}]
    if stream:
        body["stream_options"] = {"include_usage": True}  # the last chunk then carries the token counts
    return "/chat/completions", {"authorization": f"Bearer {key}"} if key else {}, body


def read_reply(provider: Provider, data: Any) -> Reply:
    """A whole (non-streamed) reply."""
    if not isinstance(data, dict):
        return Reply()
    usage = data.get("usage") or {}
    if provider.dialect == "anthropic":
        text = "".join(block.get("text", "") for block in data.get("content") or [] if block.get("type") == "text")
        return Reply(
            text,
            str(data.get("model", "")),
            int(usage.get("input_tokens") or 0),
            int(usage.get("output_tokens") or 0),
            True,
        )
    choices = data.get("choices") or [{}]
    text = ((choices[0].get("message") or {}).get("content")) or ""
    return Reply(
        text,
        str(data.get("model", "")),
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        True,
    )


def read_event(provider: Provider, data: dict[str, Any], reply: Reply) -> str:
    """Fold one streamed event into `reply`; the text it adds ("" if none)."""
    if provider.dialect == "anthropic":
        kind = data.get("type")
        if kind == "message_start":
            message = data.get("message") or {}
            reply.model = str(message.get("model", ""))
            reply.input_tokens = int((message.get("usage") or {}).get("input_tokens") or 0)
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            return str(delta.get("text", "")) if delta.get("type") == "text_delta" else ""
        elif kind == "message_delta":
            reply.output_tokens = int((data.get("usage") or {}).get("output_tokens") or reply.output_tokens)
        elif kind == "message_stop":
            reply.done = True
        elif kind == "error":
            raise StreamFailed(error_message(data))
        return ""
    reply.model = str(data.get("model") or reply.model)
    if data.get("usage"):
        reply.input_tokens = int(data["usage"].get("prompt_tokens") or 0)
        reply.output_tokens = int(data["usage"].get("completion_tokens") or 0)
    if "error" in data:
        raise StreamFailed(error_message(data))
    choices = data.get("choices") or []
    return str((choices[0].get("delta") or {}).get("content") or "") if choices else ""


def error_message(data: Any) -> str:
    """The provider's own words from an error body (both dialects put them under error.message)."""
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if data.get("message"):
            return str(data["message"])
    if isinstance(data, list) and data:
        return error_message(data[0])  # Gemini sometimes wraps the error in a list
    return ""
