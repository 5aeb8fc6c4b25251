"""`/api/v1/notifications/channels`: CRUD for superusers, secrets never sent back, bad input a 422
naming the field, settings channels read-only; the delivery history filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.notify import Receiver, eventually, webhook_receiver
from vcore_app.app import create_app

URL = "/api/v1/notifications/channels"
HOOK_SECRET = "a-webhook-secret-that-stays-hidden"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver(secret=HOOK_SECRET) as receiver:
        yield receiver


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(
        tmp_path,
        monkeypatch,
        NOTIFY_EMAIL_ENABLED=True,
        NOTIFY_EMAIL_TO="ops@example.com",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=9,
        NOTIFY_MAX_ATTEMPTS=1,
    )
    with TestClient(create_app(settings)) as client:
        yield client, login(client, ADMIN["username"], ADMIN["password"])


def test_a_channel_is_created_read_changed_and_deleted_without_showing_its_secret(
    api: tuple[TestClient, dict[str, str]], hook: Receiver
) -> None:
    client, headers = api
    created = client.post(
        URL, headers=headers, json={"name": "ops-hook", "kind": "webhook", "url": hook.url, "secret": HOOK_SECRET}
    )
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["secret_set"] and channel["secret_hint"] == "…" + HOOK_SECRET[-4:]
    assert HOOK_SECRET not in created.text
    listed = client.get(URL, headers=headers)
    assert [c["name"] for c in listed.json()["items"]] == ["email", "ops-hook"]  # settings channels first
    assert HOOK_SECRET not in listed.text
    renamed = client.put(f"{URL}/{channel['id']}", headers=headers, json={"name": "ops"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "ops" and renamed.json()["secret_set"]  # an omitted secret is kept
    sent = client.post("/api/v1/notifications/test", json={"channel_id": channel["id"]}, headers=headers)
    assert sent.status_code == 202, sent.text
    eventually(lambda: hook.accepted("test"))  # signed with the kept secret: the receiver verified it
    assert client.delete(f"{URL}/{channel['id']}", headers=headers).status_code == 204
    assert client.get(f"{URL}/{channel['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x y", "kind": "webhook", "url": "http://h"}, "name"),
        ({"name": "email", "kind": "webhook", "url": "http://h"}, None),  # taken by the settings channel
        ({"name": "h", "kind": "pager", "url": "http://h"}, "kind"),
        ({"name": "h", "kind": "webhook", "url": "ftp://h"}, "url"),
        ({"name": "h", "kind": "webhook"}, "url"),
        ({"name": "t", "kind": "telegram", "chat_id": "12"}, "secret"),
        ({"name": "t", "kind": "telegram", "chat_id": "abc", "secret": "x"}, "chat_id"),
        ({"name": "m", "kind": "email", "to": "not-an-address"}, "to"),
        ({"name": "m", "kind": "email", "to": "a@b.example", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_channel_is_a_422_naming_the_field(
    api: tuple[TestClient, dict[str, str]], body: dict[str, Any], field: str | None
) -> None:
    client, headers = api
    response = client.post(URL, headers=headers, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field] if field else error["loc"] == ["body"]
    assert error["msg"]


def test_a_second_channel_of_the_same_name_is_a_422(api: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = api
    body = {"name": "dup", "kind": "email", "to": "a@b.example"}
    assert client.post(URL, headers=headers, json=body).status_code == 201
    again = client.post(URL, headers=headers, json=body)
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_settings_channel_is_changed_in_the_settings_only(api: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = api
    [email] = client.get(URL, headers=headers).json()["items"]
    assert email["source"] == "settings" and email["config"] == {"to": "ops@example.com"}
    for response in (
        client.put(f"{URL}/{email['id']}", headers=headers, json={"enabled": False}),
        client.delete(f"{URL}/{email['id']}", headers=headers),
    ):
        assert response.status_code == 409
        assert "configured by the settings" in response.json()["detail"]


def test_the_history_filters_by_status_and_channel(api: tuple[TestClient, dict[str, str]], hook: Receiver) -> None:
    client, headers = api
    ok = client.post(
        URL, headers=headers, json={"name": "good", "kind": "webhook", "url": hook.url, "secret": HOOK_SECRET}
    ).json()
    assert client.post("/api/v1/notifications/test", json={}, headers=headers).status_code == 202
    history = "/api/v1/notifications/deliveries"
    eventually(lambda: client.get(f"{history}?status=pending", headers=headers).json()["total"] == 0)
    everything = client.get(history, headers=headers).json()
    assert {(d["channel"], d["status"]) for d in everything["items"]} == {("email", "failed"), ("good", "sent")}
    failed = client.get(f"{history}?status=failed", headers=headers).json()["items"]
    assert [d["channel"] for d in failed] == ["email"] and "SMTP 127.0.0.1:9" in failed[0]["last_error"]
    by_id = client.get(f"{history}?channel={ok['id']}", headers=headers).json()["items"]
    by_name = client.get(f"{history}?channel=good", headers=headers).json()["items"]
    assert by_id == by_name and [d["status"] for d in by_id] == ["sent"]
    assert client.get(f"{history}?channel=nope", headers=headers).json() == {"items": [], "total": 0}
    bad = client.get(f"{history}?status=lost", headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]


def test_the_new_job_form_takes_a_notify_rule_and_names_a_bad_one(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    from tests.support.pages import HTML, field_error

    form = {"type": "command", "command": "true", "notify": '{"events": ["failed", "succeeded"]}'}
    created = client.post("/jobs/new", data=form, headers={**admin_headers, **HTML}, follow_redirects=False)
    assert created.status_code == 303, created.text
    job_id = created.headers["location"].rsplit("/", 1)[1]
    shown = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers).json()
    assert shown["notify"] == {"events": ["failed", "succeeded"], "channels": None, "long_running_seconds": None}
    bad = client.post(
        "/jobs/new", data={**form, "notify": '{"events": ["sometimes"]}'}, headers={**admin_headers, **HTML}
    )
    assert bad.status_code == 422
    assert "unknown event &#39;sometimes&#39;" in (field_error(bad.text, "notify") or "")
