"""NOTIFY_LLM_SUMMARY: a failure notification carries the LLM's few sentences, asked once per job
whatever the number of channels; a provider that refuses leaves the notification as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from tests.support.llm_fake import FakeLLM, Refuse, fake_llm, llm_env
from tests.support.notify import eventually, webhook_receiver
from vcore_app.app import create_app


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with fake_llm() as fake:
        fake.chunks = ["The disk", " is full."]
        yield fake


@pytest.fixture
def failure_notices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM) -> Iterator[Any]:
    """Runs a failing job with two webhook channels; yields a function that waits for both notices."""
    for name, value in llm_env(llm).items():
        monkeypatch.setenv(name, value)
    with webhook_receiver() as hook:
        settings = make_settings(tmp_path, monkeypatch, NOTIFY_WEBHOOK_URL=f"{hook.url}/hook", NOTIFY_LLM_SUMMARY=True)
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            second = {"name": "second", "kind": "webhook", "url": f"{hook.url}/second"}
            assert client.post("/api/v1/notifications/channels", json=second, headers=headers).status_code == 201

            def notices() -> list[dict[str, Any]]:
                job = create(client, headers, type="command", command="echo 'No space left on device'; exit 1")
                wait_status(client, headers, job["id"])
                eventually(lambda: len(hook.accepted("failed")) == 2)
                return [request["body"] for request in hook.accepted("failed")]

            yield notices


def test_both_channels_get_one_llm_summary_of_the_failure(failure_notices: Any, llm: FakeLLM) -> None:
    for body in failure_notices():
        assert body["summary"] == "The disk is full."
        assert "Likely cause (LLM): The disk is full." in body["text"]
    assert len(llm.requests) == 1
    assert "No space left on device" in llm.prompts()[0]


def test_a_refusing_provider_leaves_the_notification_without_summary(failure_notices: Any, llm: FakeLLM) -> None:
    llm.plan(Refuse(401, "bad key"))
    for body in failure_notices():
        assert "summary" not in body and "Likely cause" not in body["text"]
        assert "No space left on device" in body["text"]
