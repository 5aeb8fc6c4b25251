"""Job events reach a real webhook receiver once: failed after the last retry, recovered once,
long-running once, per-job rules; retries of a failing channel show in the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from tests.support.notify import Receiver, eventually, webhook_receiver
from vcore_app.app import create_app

SECRET = "webhook-signing-secret-1234"
API = "/api/v1/notifications"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver(secret=SECRET) as receiver:
        yield receiver


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Receiver) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(
        tmp_path,
        monkeypatch,
        NOTIFY_WEBHOOK_URL=f"{hook.url}/hook",
        NOTIFY_WEBHOOK_SECRET=SECRET,
        NOTIFY_RETRY_BASE_SECONDS=0.1,
    )
    with TestClient(create_app(settings)) as client:
        yield client, login(client, ADMIN["username"], ADMIN["password"])


def deliveries(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/deliveries", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def settled(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The history once nothing waits or is being sent any more."""
    return eventually(
        lambda: (
            (rows := deliveries(client, headers))
            and all(row["status"] not in ("pending", "sending") for row in rows)
            and rows
        )
    )


def test_a_job_with_two_retries_that_fails_three_times_notifies_once(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    job = create(
        client,
        headers,
        type="command",
        command="echo 'broken <b>tag</b>'; exit 3",
        max_retries=2,
        name="nightly-backup",
    )
    assert wait_status(client, headers, job["id"])["attempt"] == 3
    eventually(lambda: hook.accepted("failed"))
    settled(client, headers)
    [failed] = hook.accepted("failed")
    assert len(hook.requests) == 1
    body = failed["body"]
    assert body["job"]["id"] == job["id"] and body["job"]["exit_code"] == 3
    assert body["job"]["attempt"] == 3 and body["url"].endswith(f"/jobs/{job['id']}")
    assert "nightly-backup" in body["subject"] and "broken <b>tag</b>" in body["text"]


def test_a_success_is_not_notified_unless_asked_and_a_rule_can_ask(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    quiet = create(client, headers, type="command", command="true")
    loud = create(client, headers, type="command", command="true", notify={"events": ["succeeded"]})
    muted = create(client, headers, type="command", command="false", notify={"events": []})
    for job in (quiet, loud, muted):
        wait_status(client, headers, job["id"])
    eventually(lambda: hook.accepted("succeeded"))
    settled(client, headers)
    assert [r["body"]["job"]["id"] for r in hook.requests] == [loud["id"]]


def test_a_rule_naming_another_channel_sends_nothing_here(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    job = create(client, headers, type="command", command="false", notify={"channels": ["elsewhere"]})
    wait_status(client, headers, job["id"])
    other = create(client, headers, type="command", command="false", notify={"channels": ["webhook"]})
    wait_status(client, headers, other["id"])
    eventually(lambda: hook.accepted("failed"))
    settled(client, headers)
    assert [r["body"]["job"]["id"] for r in hook.requests] == [other["id"]]


@pytest.mark.parametrize(
    ("notify", "field"),
    [
        ({"events": ["exploded"]}, "events"),
        ({"channels": ["no spaces"]}, "channels"),
        ({"long_running_seconds": -1}, "long_running_seconds"),
        ({"whatever": 1}, "whatever"),
    ],
)
def test_a_bad_notify_rule_is_a_422_naming_the_field(
    app: tuple[TestClient, dict[str, str]], notify: dict[str, Any], field: str
) -> None:
    client, headers = app
    response = client.post(
        "/api/v1/jobs", json={"type": "command", "command": "true", "notify": notify}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:3] == ["body", "notify", field]


def test_a_scheduler_that_recovers_notifies_recovered_once(
    app: tuple[TestClient, dict[str, str]], hook: Receiver, tmp_path: Path
) -> None:
    client, headers = app
    marker = tmp_path / "second-run"
    scheduler = client.post(
        "/api/v1/job-schedulers",
        headers=headers,
        json={
            "name": "flaky",
            "trigger_type": "cron",
            "cron": "0 3 * * *",
            "job_template": {"type": "command", "command": f"test -f {marker} || {{ touch {marker}; exit 1; }}"},
        },
    )
    assert scheduler.status_code == 201, scheduler.text
    url = f"/api/v1/job-schedulers/{scheduler.json()['id']}/run-now"
    for _ in range(3):  # fails, recovers, succeeds again
        run = client.post(url, headers=headers)
        assert run.status_code == 201, run.text
        wait_status(client, headers, run.json()["id"])
    eventually(lambda: hook.accepted("recovered"))
    settled(client, headers)
    assert [r["event"] for r in hook.requests] == ["failed", "recovered"]
    assert hook.accepted("recovered")[0]["body"]["scheduler"]["name"] == "flaky"


def test_a_job_running_longer_than_its_rule_allows_is_notified_once(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    job = create(client, headers, type="command", command="sleep 4", notify={"long_running_seconds": 1})
    eventually(lambda: hook.accepted("long_running"))
    assert wait_status(client, headers, job["id"])["status"] == "done"
    settled(client, headers)
    assert [r["event"] for r in hook.requests] == ["long_running"]
    assert "more than 1 s" in hook.requests[0]["body"]["subject"]


def test_a_channel_answering_500_three_times_delivers_once_with_the_retries_in_the_history(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    hook.script[:] = [500, 500, 500]
    job = create(client, headers, type="command", command="false")
    wait_status(client, headers, job["id"])
    eventually(lambda: hook.accepted("failed"))
    [row] = settled(client, headers)
    assert len(hook.requests) == 4 and len(hook.accepted()) == 1
    assert {r["delivery"] for r in hook.requests} == {str(row["id"])}  # one delivery id: receivers can dedupe
    assert row["status"] == "sent" and row["attempts"] == 4
    assert [(h["ok"], h["error"]) for h in row["history"]] == [(False, "webhook answered 500")] * 3 + [(True, None)]
    assert deliveries(client, headers, status="sent", channel="webhook") == [row]
    assert deliveries(client, headers, status="failed") == []
    channel = client.get(f"{API}/channels", headers=headers).json()["items"][0]
    assert channel["last_error"] == "webhook answered 500" and channel["healthy"] and channel["last_success_at"]


def test_a_channel_that_keeps_failing_is_unhealthy_and_the_job_is_untouched(
    app: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = app
    hook.script[:] = [503] * 100
    job = create(client, headers, type="command", command="true", notify={"events": ["succeeded"]})
    assert wait_status(client, headers, job["id"])["status"] == "done"
    eventually(lambda: not client.get(f"{API}/channels", headers=headers).json()["items"][0]["healthy"])
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=headers).json()["status"] == "done"
    page = client.get("/", headers={**headers, "accept": "text/html"})
    assert 'data-unhealthy-channel="webhook"' in page.text and "webhook answered 503" in page.text


def test_a_bad_signature_is_refused_by_the_documented_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver's check is the README snippet: a wrong key fails it (so the passing tests mean something)."""
    with webhook_receiver(secret="the-right-key") as receiver:
        settings = make_settings(
            tmp_path,
            monkeypatch,
            NOTIFY_WEBHOOK_URL=receiver.url,
            NOTIFY_WEBHOOK_SECRET="a-wrong-key",
            NOTIFY_MAX_ATTEMPTS=1,
        )
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            assert client.post(f"{API}/test", json={}, headers=headers).status_code == 202
            [row] = eventually(lambda: deliveries(client, headers, status="failed"))
    assert [r["status"] for r in receiver.requests] == [401]
    assert row["last_error"] == "webhook answered 401"
