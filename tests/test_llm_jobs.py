"""The `llm_prompt` script as a job on a real server: the answer reaches the log and the WebSocket
line by line while the provider is still writing it; text and usage land in the result."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, job, log_text, wait_status
from tests.support.llm_fake import GOOD_KEY, FakeLLM, fake_llm, llm_env
from tests.support.waiting import wait_for
from tests.test_job_live import messages, socket

PLUGIN = """
from vcore_app.scripts.base import Script

class Summarise(Script):
    name = "summarise_with_llm"

    def run(self, input, ctx):
        result = ctx.llm.complete("Summarise this", provider="openai", max_tokens=20)
        return {"summary": result.text, "tokens": result.output_tokens}
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(scope="module")
def server(fake: FakeLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    # GROQ_API_KEY is left unset: the missing-key test asks Groq.
    env = {**llm_env(fake, provider="anthropic"), "GROQ_API_KEY": ""}
    data_dir = tmp_path_factory.mktemp("llm") / "data"
    (data_dir / "plugins").mkdir(parents=True)
    (data_dir / "plugins" / "summarise.py").write_text(PLUGIN)
    app = start_app(data_dir, env=app_env(**ADMIN_ENV, **env))
    yield app
    app.stop()


@pytest.fixture(autouse=True)
def fresh(fake: FakeLLM) -> None:
    fake.requests.clear()
    fake.gates.clear()
    fake.chunks = ["Hello", " from", " the fake."]


def log_lines(seen: list[dict[str, Any]]) -> list[str]:
    return [line.split("Z ", 1)[1] for m in seen if "log" in m for line in m["log"]["lines"]]


def test_the_answer_streams_into_the_log_and_the_websocket_while_it_is_written(
    server: RunningApp, fake: FakeLLM
) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    fake.chunks = ["The first line\n", "The second", " line\n", "Done."]
    fake.gates = {0: threading.Event(), 1: threading.Event()}
    with socket(server, auth) as ws:
        ws.recv(timeout=5)
        created = create(
            server.http,
            auth,
            type="script",
            script="llm_prompt",
            input={"prompt": "Write two lines", "system": "Be terse", "max_tokens": 100},
        )
        ws.send(json.dumps({"subscribe_log": created["id"]}))
        messages(ws, lambda m: m.get("subscribed_log") == created["id"])
        wait_for(lambda: fake.requests)  # the child asked; nothing is written yet
        fake.gates[0].set()
        seen = messages(ws, lambda m: "The first line" in log_lines([m]))
        # The provider is held before its second chunk: the first line is there alone, the job still runs.
        assert job(server.http, auth, created["id"])["status"] == "running"
        assert "The first line" in log_text(server.http, auth, created["id"])
        assert "The second line" not in log_text(server.http, auth, created["id"])
        fake.gates[1].set()
        seen += messages(ws, lambda m: "The second line" in log_lines([m]))
    finished = wait_status(server.http, auth, created["id"])
    assert finished["status"] == "done", finished
    output = finished["result"]["output"]
    assert output["text"] == "The first line\nThe second line\nDone."
    assert output["usage"]["provider"] == "anthropic" and output["usage"]["output_tokens"] == 4
    assert output["usage"]["input_tokens"] > 0
    assert fake.requests[0]["path"] == "/v1/messages" and fake.requests[0]["body"]["system"] == "Be terse"
    log = log_text(server.http, auth, created["id"])
    assert "Done." in log and "[llm] anthropic" in log


def test_the_call_counts_for_the_jobs_creator(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    created = create(
        server.http, auth, type="script", script="llm_prompt", input={"prompt": "hi", "provider": "openai"}
    )
    assert wait_status(server.http, auth, created["id"])["status"] == "done"
    usage = server.http.get("/api/v1/llm/usage", headers=auth).json()["items"]
    admin = next(row for row in usage if row["username"] == ADMIN["username"])
    assert admin["calls"] >= 1 and admin["output_tokens"] >= 3


def test_a_missing_key_fails_the_job_at_once_without_retries(server: RunningApp, fake: FakeLLM) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    created = create(
        server.http, auth, type="script", script="llm_prompt", max_retries=3, input={"prompt": "hi", "provider": "groq"}
    )
    finished = wait_status(server.http, auth, created["id"])
    assert (finished["status"], finished["error"], finished["attempt"]) == ("failed", "GROQ_API_KEY is not set", 1)
    assert fake.requests == []


def test_invalid_input_is_refused_when_the_job_is_created(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    response = server.http.post(
        "/api/v1/jobs",
        headers=auth,
        json={"type": "script", "script": "llm_prompt", "input": {"prompt": "hi", "temperature": 7}},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "input", "temperature"]


def test_a_script_plugin_uses_ctx_llm_with_the_same_api(server: RunningApp, fake: FakeLLM) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    created = create(server.http, auth, type="script", script="summarise_with_llm")
    finished = wait_status(server.http, auth, created["id"])
    assert finished["result"]["output"] == {"summary": "Hello from the fake.", "tokens": 3}, finished
    assert fake.requests[-1]["path"] == "/v1/chat/completions"


def test_the_keys_are_in_no_log(server: RunningApp, fake: FakeLLM) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    created = create(server.http, auth, type="script", script="llm_prompt", input={"prompt": "hi"})
    assert wait_status(server.http, auth, created["id"])["status"] == "done"
    assert fake.requests[-1]["headers"]["x-api-key"] == GOOD_KEY  # it was used
    logs = [server.output(), *(path.read_text() for path in (server.data_dir / "logs").rglob("*.log"))]
    assert len(logs) > 2 and not any(GOOD_KEY in text for text in logs)
