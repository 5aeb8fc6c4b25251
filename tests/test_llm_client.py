"""The LLM client against a local fake of the providers: answers, streams, retries, refusals, timeouts."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import make_settings
from tests.support.llm_fake import GOOD_KEY, Delay, FakeLLM, Refuse, fake_llm, llm_env
from vcore_app.llm.client import LLM, LLMError, Result
from vcore_app.settings import Settings


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


def settings_for(fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Settings:
    return make_settings(tmp_path, monkeypatch, **{**llm_env(fake), **overrides})


PROVIDERS = [  # (provider, the path the fake saw, the header carrying the key)
    ("openai", "/v1/chat/completions", "authorization"),
    ("anthropic", "/v1/messages", "x-api-key"),
    ("google", "/v1beta/openai/chat/completions", "authorization"),
    ("groq", "/openai/v1/chat/completions", "authorization"),
    ("local", "/v1/chat/completions", "authorization"),
]


@pytest.mark.parametrize(("provider", "path", "key_header"), PROVIDERS)
def test_a_completion_returns_the_text_and_its_usage(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, path: str, key_header: str
) -> None:
    settings = settings_for(fake, tmp_path, monkeypatch, LLM_LOCAL_API_KEY=GOOD_KEY)
    result = LLM(settings).complete(
        "Say hello", provider=provider, model="m-1", system="Be brief", max_tokens=50, temperature=0.3
    )
    assert result.text == "Hello from the fake."
    assert (result.provider, result.model, result.output_tokens) == (provider, "m-1", 3)
    assert result.input_tokens > 0 and result.latency_ms > 0
    request = fake.requests[-1]
    assert request["path"] == path and GOOD_KEY in request["headers"][key_header]
    assert request["body"]["max_tokens"] == 50 and request["body"]["temperature"] == 0.3
    assert "Be brief" in fake.prompts()[-1] and "Say hello" in fake.prompts()[-1]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_stream_yields_the_chunks_as_they_arrive_then_the_usage(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    fake.chunks = ["One", " two", " three"]
    results: list[Result] = []
    stream = LLM(settings_for(fake, tmp_path, monkeypatch), on_result=results.append).stream("Count", provider=provider)
    assert list(stream) == ["One", " two", " three"]
    assert stream.result is not None and stream.result.text == "One two three"
    assert stream.result.output_tokens == 3 and stream.result.input_tokens > 0
    assert results == [stream.result]


def test_stream_text_reads_the_rest_and_answers_the_whole_text(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = LLM(settings_for(fake, tmp_path, monkeypatch)).complete("hi", stream=True)
    assert fake.requests == []  # nothing is sent before the first chunk is asked for
    assert next(iter(stream)) == "Hello"
    assert stream.text() == "Hello from the fake." and len(fake.requests) == 1


def test_the_default_provider_and_model_come_from_the_settings(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(fake, tmp_path, monkeypatch, LLM_DEFAULT_PROVIDER="anthropic", LLM_DEFAULT_MODEL="claude-x")
    result = LLM(settings).complete("hi")
    assert (result.provider, result.model) == ("anthropic", "claude-x")
    assert fake.requests[-1]["path"] == "/v1/messages"


def test_a_429_is_retried_after_the_retry_after_it_names(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.plan(Refuse(429, "slow down", retry_after="1"))
    result = LLM(settings_for(fake, tmp_path, monkeypatch)).complete("hi")
    assert result.text == "Hello from the fake."
    assert len(fake.requests) == 2
    assert fake.requests[1]["at"] - fake.requests[0]["at"] >= 0.9  # it waited as told


def test_retries_are_bounded(fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.plan(*[Refuse(429, "slow down", retry_after="0")] * 5)
    with pytest.raises(LLMError) as failed:
        LLM(settings_for(fake, tmp_path, monkeypatch, LLM_MAX_RETRIES=2)).complete("hi")
    assert len(fake.requests) == 3
    assert failed.value.status == 429 and "rate limited (HTTP 429: slow down)" in failed.value.message


def test_a_retry_after_beyond_the_cap_fails_at_once_with_the_advice(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.plan(Refuse(429, "quota", retry_after="3600"))
    started = time.monotonic()
    with pytest.raises(LLMError) as failed:
        LLM(settings_for(fake, tmp_path, monkeypatch)).complete("hi")
    assert time.monotonic() - started < 5 and len(fake.requests) == 1
    assert failed.value.retry_after == 3600


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_401_says_the_key_was_rejected_and_never_shows_the_key(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    wrong = "sk-wrong-key-abcdef123456"
    settings = settings_for(fake, tmp_path, monkeypatch, OPENAI_API_KEY=wrong, ANTHROPIC_API_KEY=wrong)
    with pytest.raises(LLMError) as failed:
        LLM(settings).complete("hi", provider=provider)
    assert "key rejected by provider (HTTP 401" in failed.value.message
    assert failed.value.provider_status == 401 and len(fake.requests) == 1  # a 401 is not retried
    assert wrong not in failed.value.message  # the fake's OpenAI echoes the key back


def test_another_provider_error_passes_through_with_status_and_message(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.plan(Refuse(404, "The model `nope` does not exist"))
    with pytest.raises(LLMError) as failed:
        LLM(settings_for(fake, tmp_path, monkeypatch)).complete("hi", model="nope")
    assert failed.value.message == "OpenAI refused the request (HTTP 404: The model `nope` does not exist)"
    assert failed.value.provider_status == 404


def test_a_provider_that_does_not_answer_in_time_is_a_timeout(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.plan(Delay(3))
    with pytest.raises(LLMError) as failed:
        LLM(settings_for(fake, tmp_path, monkeypatch, LLM_TIMEOUT_SECONDS=0.5)).complete("hi")
    assert failed.value.status == 504 and "did not answer within 0.5 s (timeout)" in failed.value.message


@pytest.mark.parametrize(
    ("provider", "setting"),
    [
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("openai", "OPENAI_API_KEY"),
        ("google", "GOOGLE_API_KEY"),
        ("groq", "GROQ_API_KEY"),
    ],
)
def test_a_missing_key_is_named_before_anything_is_sent(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, setting: str
) -> None:
    with pytest.raises(LLMError) as failed:
        LLM(settings_for(fake, tmp_path, monkeypatch, **{setting: ""})).complete("hi", provider=provider)
    assert failed.value.message == f"{setting} is not set"
    assert fake.requests == []


def test_a_local_server_gets_no_key_when_none_is_set(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(fake, tmp_path, monkeypatch)
    with pytest.raises(LLMError):
        LLM(settings).complete("hi", provider="local")
    assert "authorization" not in fake.requests[-1]["headers"]


def test_an_unknown_provider_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LLMError) as failed:
        LLM(make_settings(tmp_path, monkeypatch)).complete("hi", provider="skynet")
    assert failed.value.status == 422 and "unknown LLM provider 'skynet'" in failed.value.message


def test_the_app_starts_without_importing_the_llm_client(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom vcore_app.settings import load_settings\nfrom vcore_app.app import create_app\n"
        f"create_app(load_settings(data_dir={str(tmp_path / 'data')!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('vcore_app.llm.client', 'vcore_app.llm.providers',"
        " 'openai', 'anthropic'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
