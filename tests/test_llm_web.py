"""The LLM helpers over HTTP: /api/v1/llm/complete (whole and streamed), "explain this failure" with
its redaction, the Ask an LLM tool's stream, who may use them, and token usage per user."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from tests.support.llm_fake import FakeLLM, Refuse, fake_llm, llm_env
from vcore_app.app import create_app

ENV_SECRET = "hunter2-database-password"
HEADER_SECRET = "tok-4f9a8b7c6d5e4f3a2b1c"


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture
def client(fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # In the environment too: script jobs' child processes read their settings from it.
    for name, value in llm_env(fake).items():
        monkeypatch.setenv(name, value)
    with TestClient(create_app(make_settings(tmp_path, monkeypatch))) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return login(client, ADMIN["username"], ADMIN["password"])


def failed_command_job(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    job = create(
        client,
        auth,
        type="command",
        env={"DB_PASSWORD": ENV_SECRET},
        command='echo "connecting with $DB_PASSWORD"; echo "ERROR: relation users does not exist" >&2; exit 3',
    )
    assert wait_status(client, auth, job["id"])["status"] == "failed"
    return job


def test_a_completion_answers_text_and_usage(client: TestClient, admin: dict[str, str], fake: FakeLLM) -> None:
    response = client.post("/api/v1/llm/complete", headers=admin, json={"prompt": "hi", "provider": "anthropic"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "Hello from the fake."
    assert body["usage"]["provider"] == "anthropic" and body["usage"]["output_tokens"] == 3


def test_a_streamed_completion_arrives_as_text_in_pieces(
    client: TestClient, admin: dict[str, str], fake: FakeLLM
) -> None:
    fake.chunks = ["a" * 10, "b" * 10, "c" * 10]
    with client.stream(
        "POST", "/api/v1/llm/complete", headers=admin, json={"prompt": "hi", "stream": True}
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        pieces = list(response.iter_text())
    assert "".join(pieces) == "a" * 10 + "b" * 10 + "c" * 10
    assert len(pieces) >= 2  # not one buffered body


@pytest.mark.parametrize(
    ("plan", "setting", "status", "message"),
    [
        ([], {"OPENAI_API_KEY": ""}, 400, "OPENAI_API_KEY is not set"),
        ([], {"OPENAI_API_KEY": "sk-wrong-0123456789"}, 502, "OpenAI: key rejected by provider (HTTP 401: "),
        ([Refuse(429, "quota", retry_after="3600")], {}, 429, "OpenAI: rate limited (HTTP 429: quota)"),
    ],
)
def test_failures_answer_a_status_and_one_sentence(
    fake: FakeLLM,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plan: list[Any],
    setting: dict[str, str],
    status: int,
    message: str,
) -> None:
    fake.plan(*plan)
    settings = make_settings(tmp_path, monkeypatch, **{**llm_env(fake), **setting})
    with TestClient(create_app(settings)) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        for stream in (False, True):
            fake.plan(*plan)
            response = client.post("/api/v1/llm/complete", headers=auth, json={"prompt": "hi", "stream": stream})
            assert response.status_code == status, response.text
            assert response.json()["detail"].startswith(message)
            assert "sk-wrong-0123456789" not in response.text
    if status == 429:
        assert response.headers["retry-after"] == "3600"


def test_bad_input_names_the_field(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/llm/complete", headers=admin, json={"prompt": "hi", "provider": "skynet"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "provider"]


def test_explain_sends_the_spec_and_log_tail_with_secrets_redacted(
    client: TestClient, admin: dict[str, str], fake: FakeLLM
) -> None:
    job = failed_command_job(client, admin)
    fake.chunks = ["The table `users` is missing: run the migrations first."]
    response = client.post(f"/api/v1/jobs/{job['id']}/explain", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "The table `users` is missing: run the migrations first."
    sent = fake.prompts()[-1]
    assert "relation users does not exist" in sent and "exit 3" in sent  # the log tail and the spec went
    assert ENV_SECRET not in sent and "[redacted]" in sent  # in the spec and in the log line that echoed it
    assert "DB_PASSWORD" in sent  # the name stays: it helps to know which setting it was
    kept = client.get(f"/api/v1/jobs/{job['id']}/explanation", headers=admin)
    assert kept.status_code == 200 and kept.json()["text"].startswith("The table `users` is missing")
    page = client.get(f"/jobs/{job['id']}", headers={**admin, "accept": "text/html"})
    assert "The table `users` is missing: run the migrations first." in page.text


def test_explain_redacts_header_values_of_an_api_post_job(
    client: TestClient, admin: dict[str, str], fake: FakeLLM
) -> None:
    job = create(
        client,
        admin,
        type="api_post",
        url="http://127.0.0.1:9/unreachable",
        headers={"Authorization": f"Bearer {HEADER_SECRET}", "X-Api-Key": HEADER_SECRET},
        body={"a": 1},
    )
    assert wait_status(client, admin, job["id"])["status"] == "failed"
    assert client.post(f"/api/v1/jobs/{job['id']}/explain", headers=admin).status_code == 200
    sent = fake.prompts()[-1]
    assert HEADER_SECRET not in sent and "X-Api-Key" in sent and "unreachable" in sent


def test_the_log_sent_is_capped(fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, monkeypatch, **llm_env(fake), LLM_EXPLAIN_LOG_BYTES=2000)
    with TestClient(create_app(settings)) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        job = create(client, auth, type="command", command="seq 1 5000; exit 1")
        assert wait_status(client, auth, job["id"])["status"] == "failed"
        assert client.post(f"/api/v1/jobs/{job['id']}/explain", headers=auth).status_code == 200
    user_text = fake.requests[-1]["body"]["messages"][-1]["content"]
    log = user_text.split("The end of its log:", 1)[1]
    assert "\n5000\n" in log and "\n10\n" not in log and len(log) < 2100


def test_only_a_failed_job_is_explained(client: TestClient, admin: dict[str, str], fake: FakeLLM) -> None:
    job = create(client, admin, type="command", command="true")
    assert wait_status(client, admin, job["id"])["status"] == "done"
    response = client.post(f"/api/v1/jobs/{job['id']}/explain", headers=admin)
    assert response.status_code == 409 and "only a failed job" in response.json()["detail"]
    assert client.get(f"/api/v1/jobs/{job['id']}/explanation", headers=admin).status_code == 404
    assert fake.requests == []


def test_a_user_explains_only_its_own_jobs_and_sees_no_usage(
    client: TestClient, admin: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    job = failed_command_job(client, admin)
    alice = make_user("alice")
    assert client.post(f"/api/v1/jobs/{job['id']}/explain", headers=alice).status_code == 404
    assert client.get("/api/v1/llm/usage", headers=alice).status_code == 403
    assert client.post("/api/v1/llm/complete", headers=alice, json={"prompt": "hi"}).status_code == 200


def test_usage_is_counted_per_user_and_shown_to_superusers(
    client: TestClient, admin: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    alice = make_user("alice")
    for auth in (alice, alice, admin):
        assert client.post("/api/v1/llm/complete", headers=auth, json={"prompt": "hi"}).status_code == 200
    items = {row["username"]: row for row in client.get("/api/v1/llm/usage", headers=admin).json()["items"]}
    assert (items["alice"]["calls"], items["alice"]["output_tokens"]) == (2, 6)
    assert (items["admin"]["calls"], items["admin"]["output_tokens"]) == (1, 3)
    dashboard = client.get("/", headers={**admin, "accept": "text/html"}).text
    assert 'id="llm-usage"' in dashboard and '<td>alice</td><td class="text-end">2</td>' in dashboard
    assert 'id="llm-usage"' not in client.get("/", headers={**alice, "accept": "text/html"}).text


def test_the_ask_tool_streams_and_works_without_javascript(
    client: TestClient, admin: dict[str, str], fake: FakeLLM
) -> None:
    form = {"prompt": "What is cron?", "provider": "anthropic", "max_tokens": "200"}
    with client.stream("POST", "/tools/ask-llm/stream", headers=admin, data=form) as response:
        assert response.status_code == 200
        assert "".join(response.iter_text()) == "Hello from the fake."
    assert fake.requests[-1]["path"] == "/v1/messages" and fake.requests[-1]["body"]["max_tokens"] == 200
    page = client.post("/tools/ask-llm", headers={**admin, "accept": "text/html"}, data=form)
    assert page.status_code == 200 and "Hello from the fake." in page.text
    refused = client.post("/tools/ask-llm/stream", headers=admin, data={"prompt": ""})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "prompt"]
    assert client.post("/tools/cron-preview/stream", headers=admin, data={}).status_code == 404


def test_failure_summary_is_off_by_default_and_short_when_on(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vcore_app import llm
    from vcore_app.models import Job

    job = Job(
        id=7,
        name="backup",
        type="command",
        command="restic backup",
        status="failed",
        error="exit code 1",
        env={"RESTIC_PASSWORD": ENV_SECRET},
    )
    settings = make_settings(tmp_path, monkeypatch, **llm_env(fake))
    assert llm.failure_summary(job, "Fatal: wrong password", settings=settings) is None
    assert fake.requests == []
    on = settings.model_copy(update={"NOTIFY_LLM_SUMMARY": True})
    assert llm.failure_summary(job, f"Fatal: wrong password {ENV_SECRET}", settings=on) == "Hello from the fake."
    assert ENV_SECRET not in json.dumps(fake.requests[-1]["body"])
    fake.plan(Refuse(500, "down"))
    assert llm.failure_summary(job, "x", settings=on.model_copy(update={"LLM_MAX_RETRIES": 0})) is None


def test_failure_summary_counts_its_tokens_for_the_jobs_creator(client: TestClient, admin: dict[str, str]) -> None:
    from vcore_app import db, llm
    from vcore_app.models import Job

    failed = failed_command_job(client, admin)
    runtime = client.app.state.runtime
    with db.session(runtime.engine, readonly=True) as session:
        job = session.get(Job, failed["id"])
    on = runtime.settings.model_copy(update={"NOTIFY_LLM_SUMMARY": True})
    assert llm.failure_summary(job, "boom", settings=on, engine=runtime.engine) == "Hello from the fake."
    items = client.get("/api/v1/llm/usage", headers=admin).json()["items"]
    assert [(row["username"], row["calls"]) for row in items] == [(ADMIN["username"], 1)]


def test_the_explain_button_reports_a_failure_on_the_job_page(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, monkeypatch, **{**llm_env(fake), "OPENAI_API_KEY": ""})
    with TestClient(create_app(settings)) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        job = failed_command_job(client, auth)
        page = client.post(f"/jobs/{job['id']}/explain", headers={**auth, "accept": "text/html"})
    assert page.status_code == 200 and page.url.path == f"/jobs/{job['id']}"
    assert "No explanation: OPENAI_API_KEY is not set" in page.text
    assert f'id="explain-{job["id"]}"' in page.text and 'id="job-explanation"' not in page.text


def test_the_llm_prompt_script_has_a_form_and_the_ask_tool_a_card(client: TestClient, admin: dict[str, str]) -> None:
    html = {**admin, "accept": "text/html"}
    form = client.get("/scripts/llm_prompt", headers=html)
    assert form.status_code == 200
    assert all(
        f'name="{field}"' in form.text
        for field in ("prompt", "provider", "model", "system", "max_tokens", "temperature")
    )
    assert 'href="/tools/ask-llm"' in client.get("/tools", headers=html).text
