"""One small client over every provider, on httpx (already a dependency of the app).

Why not the official SDKs: measured on this machine kind, `openai` plus `anthropic` add ~39 MB of
installed files (they pull in httpx2, httpcore2, jiter, opentelemetry-api), 4-20 s of import time on
a loaded 2-core box (x7-x38 httpx's), and 7.5 MB to a one-file binary, for two JSON endpoints and a
server-sent-events reader that fit in this file and providers.py. bench/llm_sdk_cost.py measures it.

Errors are `LLMError`s with one sentence a user can act on and the HTTP status our API answers
with. Keys never appear in logs or messages: a provider that echoes the key back gets it masked.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx
from loguru import logger

from vcore_app.llm.providers import (
    PROVIDERS,
    Provider,
    Reply,
    StreamFailed,
    build_request,
    error_message,
    read_event,
    read_reply,
)

if TYPE_CHECKING:
    from vcore_app.settings import Settings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic is overloaded
DEFAULT_MAX_TOKENS = 1024


class LLMError(Exception):
    """A call that failed: `message` for the user, `status` for our HTTP answer; `provider_status` is
    what the provider answered (None when it never did), `retry_after` its advice in seconds."""

    def __init__(
        self, message: str, status: int = 502, *, provider_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider_status = provider_status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Result:
    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float

    @property
    def usage(self) -> dict[str, Any]:
        """What a job result or an API answer shows besides the text."""
        return {key: value for key, value in asdict(self).items() if key != "text"}


OnResult = Callable[[Result], None]


class Stream:
    """The text of a streamed answer, chunk by chunk as it arrives; `result` once it is read to the end."""

    def __init__(self, produce: Callable[[Stream], Iterator[str]]) -> None:
        self.result: Result | None = None
        self._chunks = produce(self)  # a generator: nothing is sent before the first chunk is asked for

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    def text(self) -> str:
        """Read what is left; the whole text."""
        for _chunk in self._chunks:
            pass
        assert self.result is not None
        return self.result.text


@dataclass(frozen=True)
class _Call:
    provider: Provider
    key: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


class LLM:
    """The client bound to one set of settings. `on_result` sees every finished call (usage rows)."""

    def __init__(self, settings: Settings, *, on_result: OnResult | None = None) -> None:
        self.settings = settings
        self.on_result = on_result

    @overload
    def complete(
        self,
        prompt: str,
        *,
        provider: str | None = ...,
        model: str | None = ...,
        system: str | None = ...,
        max_tokens: int = ...,
        temperature: float | None = ...,
        stream: Literal[False] = ...,
    ) -> Result: ...

    @overload
    def complete(
        self,
        prompt: str,
        *,
        provider: str | None = ...,
        model: str | None = ...,
        system: str | None = ...,
        max_tokens: int = ...,
        temperature: float | None = ...,
        stream: Literal[True],
    ) -> Stream: ...

    def complete(
        self,
        prompt: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        system: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stream: bool = False,
    ) -> Result | Stream:
        """The answer to `prompt` as a `Result`; with `stream=True` a `Stream` of text chunks instead."""
        call = self._prepare(
            prompt,
            provider=provider,
            model=model,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=stream,
        )
        if stream:
            return Stream(lambda holder: self._stream(call, holder))
        started = time.perf_counter()
        with httpx.Client(timeout=self._timeout()) as client:
            response = self._send(client, call)
            try:
                response.read()
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise self._failed(call, exc) from None
            finally:
                response.close()
        return self._finish(call, read_reply(call.provider, data), started)

    def stream(
        self,
        prompt: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        system: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
    ) -> Stream:
        """`complete(..., stream=True)`: iterate it for text chunks; its `result` is set at the end."""
        return self.complete(
            prompt,
            provider=provider,
            model=model,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
        )

    # -- the HTTP side -----------------------------------------------------------------------------

    def _prepare(
        self,
        prompt: str,
        *,
        provider: str | None,
        model: str | None,
        system: str | None,
        max_tokens: int,
        temperature: float | None,
        stream: bool,
    ) -> _Call:
        settings = self.settings
        name = provider or settings.LLM_DEFAULT_PROVIDER
        chosen = PROVIDERS.get(name)
        if chosen is None:
            raise LLMError(f"unknown LLM provider '{name}' (known: {', '.join(PROVIDERS)})", 422)
        key = getattr(settings, chosen.key_setting).get_secret_value()
        if chosen.key_required and not key:
            raise LLMError(f"{chosen.key_setting} is not set", 400)
        default_model = settings.LLM_DEFAULT_MODEL if name == settings.LLM_DEFAULT_PROVIDER else ""
        path, headers, body = build_request(
            chosen,
            key=key,
            model=model or default_model or chosen.default_model,
            prompt=prompt,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=stream,
        )
        base = str(getattr(settings, chosen.url_setting)).rstrip("/")
        if not base:
            raise LLMError(f"{chosen.url_setting} is not set", 400)
        return _Call(chosen, key, base + path, headers, body)

    def _timeout(self) -> httpx.Timeout:
        seconds = self.settings.LLM_TIMEOUT_SECONDS
        return httpx.Timeout(seconds, connect=min(seconds, 10.0))

    def _send(self, client: httpx.Client, call: _Call) -> httpx.Response:
        """The response once its status is a success; retries 429 and 5xx a bounded number of times,
        waiting what Retry-After says (or 1, 2, 4 s) but never longer than LLM_MAX_RETRY_WAIT_SECONDS."""
        settings = self.settings
        for attempt in range(settings.LLM_MAX_RETRIES + 1):
            try:
                response = client.send(
                    client.build_request("POST", call.url, json=call.body, headers=call.headers), stream=True
                )
            except httpx.HTTPError as exc:
                raise self._failed(call, exc) from None
            if response.is_success:
                return response
            try:
                response.read()
            except httpx.HTTPError as exc:
                raise self._failed(call, exc) from None
            finally:
                response.close()
            error = self._refused(call, response)
            if response.status_code not in RETRY_STATUSES or attempt == settings.LLM_MAX_RETRIES:
                raise error
            wait = error.retry_after if error.retry_after is not None else float(2**attempt)
            if wait > settings.LLM_MAX_RETRY_WAIT_SECONDS:
                raise error
            logger.info(
                "{} answered {}; retry {} of {} in {:g} s",
                call.provider.label,
                response.status_code,
                attempt + 1,
                settings.LLM_MAX_RETRIES,
                wait,
            )
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _stream(self, call: _Call, holder: Stream) -> Iterator[str]:
        started = time.perf_counter()
        reply = Reply()
        with httpx.Client(timeout=self._timeout()) as client:
            response = self._send(client, call)
            try:
                for data in _events(response):
                    chunk = read_event(call.provider, data, reply)
                    if chunk:
                        reply.text += chunk
                        yield chunk
            except StreamFailed as exc:
                raise LLMError(self._masked(call, f"{call.provider.label} failed mid-answer: {exc}")) from None
            except httpx.HTTPError as exc:
                raise self._failed(call, exc) from None
            finally:
                response.close()
        holder.result = self._finish(call, reply, started)

    def _finish(self, call: _Call, reply: Reply, started: float) -> Result:
        result = Result(
            text=reply.text,
            provider=call.provider.name,
            model=reply.model or str(call.body["model"]),
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        logger.info(
            "LLM {} {}: {} tokens in, {} out, {:.0f} ms",
            result.provider,
            result.model,
            result.input_tokens,
            result.output_tokens,
            result.latency_ms,
        )
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _refused(self, call: _Call, response: httpx.Response) -> LLMError:
        try:
            said = error_message(response.json())
        except ValueError:
            said = response.text[:300]
        status, label = response.status_code, call.provider.label
        detail = f"HTTP {status}" + (f": {said}" if said else "")
        if status in (401, 403):
            message = f"{label}: key rejected by provider ({detail})"
        elif status == 429:
            message = f"{label}: rate limited ({detail})"
        else:
            message = f"{label} refused the request ({detail})"
        return LLMError(
            self._masked(call, message),
            429 if status == 429 else 502,
            provider_status=status,
            retry_after=_retry_after(response),
        )

    def _failed(self, call: _Call, exc: Exception) -> LLMError:
        label = call.provider.label
        if isinstance(exc, httpx.TimeoutException):
            return LLMError(f"{label} did not answer within {self.settings.LLM_TIMEOUT_SECONDS:g} s (timeout)", 504)
        if isinstance(exc, ValueError):
            return LLMError(f"{label} answered something that is not JSON", 502)
        return LLMError(self._masked(call, f"{label} could not be reached at {call.url}: {exc}"), 502)

    @staticmethod
    def _masked(call: _Call, text: str) -> str:
        return text.replace(call.key, "***") if call.key else text


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON `data:` of server-sent events; OpenAI ends with `data: [DONE]`."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            data = json.loads(payload)
        except ValueError:
            continue
        if isinstance(data, dict):
            yield data


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from `retry-after-ms`, or from `retry-after` as seconds or as an HTTP date."""
    headers = response.headers
    if "retry-after-ms" in headers:
        with contextlib.suppress(ValueError):
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return max(float(value), 0.0)
    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
