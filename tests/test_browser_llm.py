"""The LLM helpers in a real browser, against a server whose providers point at the local fake:
"Explain this failure" on a failed job's page, and the Ask an LLM tool writing its answer as it comes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.llm_fake import FakeLLM, fake_llm, llm_env
from tests.support.waiting import wait_for
from tests.test_browser_jobs import LIVE, badge, create_job


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(scope="module")
def ui_app(fake: FakeLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """Replaces conftest's server for this module (the `page` fixture logs in to this one)."""
    app = start_app(
        tmp_path_factory.mktemp("ui-llm") / "data",
        env=app_env(
            **ADMIN_ENV,
            **llm_env(fake),
        ),
    )
    yield app
    app.stop()


def test_the_explain_button_of_a_failed_job_shows_the_answer(page: Page, ui_app: RunningApp, fake: FakeLLM) -> None:
    fake.chunks = ["The script exits with 3 because ", "the file /data/in.csv does not exist."]
    job_id = create_job(page, ui_app.url, "echo 'cannot open /data/in.csv' >&2; exit 3", name="import csv")
    expect(badge(page)).to_have_text("failed", timeout=LIVE)
    button = page.locator(f"#explain-{job_id}")  # drawn live when the job fails
    expect(button).to_have_text("Explain this failure", timeout=LIVE)
    button.click()
    expect(page.locator(".alert-success")).to_contain_text("The explanation is on the page.")
    expect(page.locator("#job-explanation")).to_have_text(
        "The script exits with 3 because the file /data/in.csv does not exist."
    )
    assert "cannot open /data/in.csv" in fake.prompts()[-1]
    expect(page.locator(f"#explain-{job_id}")).to_have_text("Explain again")


def test_the_ask_tool_writes_the_answer_while_it_arrives(page: Page, ui_app: RunningApp, fake: FakeLLM) -> None:
    fake.chunks = ["Cron runs ", "commands on a schedule."]
    fake.gates = {1: threading.Event()}
    try:
        page.goto(f"{ui_app.url}/tools")
        page.click("a[href='/tools/ask-llm']")
        page.fill("#f-prompt", "What is cron?")
        page.select_option("#f-provider", "anthropic")
        page.click(".vc-quick-tool-form button[type=submit]")
        answer = page.locator("#qt-stream-text")
        expect(answer).to_contain_text("Cron runs", timeout=LIVE)
        assert "commands" not in answer.inner_text()  # the first chunk alone: the fake holds the rest
        assert page.url.endswith("/tools/ask-llm")  # no page load: the same page is filled in
        fake.gates[1].set()
        expect(answer).to_have_text("Cron runs commands on a schedule.", timeout=LIVE)
        expect(page.locator("#qt-stream-busy")).to_be_hidden()
    finally:
        fake.gates.clear()
    wait_for(lambda: fake.requests and fake.requests[-1]["path"] == "/v1/messages")


def test_the_ask_tool_shows_a_refusal_as_one_sentence(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/tools/ask-llm")
    page.fill("#f-prompt", "hi")
    page.select_option("#f-provider", "local")  # the fake wants a key; LLM_LOCAL_API_KEY is not set
    page.click(".vc-quick-tool-form button[type=submit]")
    expect(page.locator("#qt-stream-error")).to_contain_text(
        "Local server: key rejected by provider (HTTP 401", timeout=LIVE
    )


def test_the_dashboard_shows_tokens_per_user(page: Page, ui_app: RunningApp) -> None:
    # Its own call: the module's tests run in any order, on any worker.
    login = {"username": ADMIN["username"], "password": ADMIN["password"]}
    token = ui_app.http.post("/api/v1/login/access-token", data=login).json()["access_token"]
    asked = ui_app.http.post(
        "/api/v1/llm/complete", json={"prompt": "hi"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert asked.status_code == 200, asked.text
    page.goto(f"{ui_app.url}/")
    expect(page.locator("#llm-usage")).to_contain_text(ADMIN["username"])
