"""The scheduler API: create, read, change, toggle, delete, preview; every invalid input is a 422 naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.pages import log_in_browser

URL = "/api/v1/job-schedulers"
TEMPLATE = {"name": "say hi", "type": "command", "command": "echo hi"}


def scheduler(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "nightly",
        "trigger_type": "cron",
        "cron": "0 3 * * *",
        "timezone": "Europe/Berlin",
        "job_template": TEMPLATE,
        **overrides,
    }


@pytest.mark.both_databases
def test_a_cron_scheduler_is_created_with_its_next_run(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(URL, json=scheduler(), headers=admin_headers)
    assert response.status_code == 201
    body = response.json()
    assert body["next_run_at"] and body["enabled"] is True and body["overlap_policy"] == "skip"
    assert body["misfire_policy"] == "run_once"
    listed = client.get(URL + "/", headers=admin_headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]


def test_the_timezone_defaults_to_the_timezone_setting(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = client.post(URL, json=scheduler(timezone=None), headers=admin_headers).json()
    assert body["timezone"] == "UTC"


def test_preview_lists_the_next_times_in_the_zone_and_in_utc(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=scheduler(), headers=admin_headers).json()
    body = client.get(f"{URL}/{created['id']}/preview?count=5", headers=admin_headers).json()
    assert len(body["times"]) == 5
    first = body["times"][0]
    assert first["local"][11:16] == "03:00"
    assert first["utc"].endswith("+00:00") and first["utc"][11:16] in ("01:00", "02:00")


@pytest.mark.both_databases
def test_toggle_disables_and_enables_again(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(
        URL, json=scheduler(trigger_type="repeat", cron=None, repeat_every_seconds=60), headers=admin_headers
    ).json()
    off = client.post(f"{URL}/{created['id']}/toggle", headers=admin_headers).json()
    assert off["enabled"] is False and off["next_run_at"] is None
    on = client.post(f"{URL}/{created['id']}/toggle", headers=admin_headers).json()
    assert on["enabled"] is True and on["next_run_at"]


@pytest.mark.both_databases
def test_put_changes_fields_and_recomputes_the_next_run(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=scheduler(), headers=admin_headers).json()
    changed = client.put(f"{URL}/{created['id']}", json={"cron": "15 4 * * *"}, headers=admin_headers)
    assert changed.status_code == 200
    assert changed.json()["cron"] == "15 4 * * *" and changed.json()["next_run_at"] != created["next_run_at"]


def test_delete_removes_it(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(URL, json=scheduler(), headers=admin_headers).json()
    assert client.delete(f"{URL}/{created['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"{URL}/{created['id']}", headers=admin_headers).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "*/0 * * * *"}, "cron"),
        ({"cron": "0 0 * * * *"}, "cron"),
        ({"cron": ""}, "cron"),
        ({"cron": None}, "cron"),
        ({"trigger_type": "repeat", "cron": None, "repeat_every_seconds": 0}, "repeat_every_seconds"),
        ({"trigger_type": "repeat", "cron": None}, "repeat_every_seconds"),
        ({"trigger_type": "repeat", "repeat_every_seconds": 10}, "cron"),
        ({"trigger_type": "on_start"}, "cron"),
        ({"trigger_type": "hourly"}, "trigger_type"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "America"}, "timezone"),  # a tzdata folder, not a zone
        ({"overlap_policy": "pile-up"}, "overlap_policy"),
        ({"name": ""}, "name"),
        ({"job_template": "echo hi"}, "job_template"),
        ({"job_template": {"type": "command"}}, "job_template"),
        ({"job_template": {"type": "script", "script": "no-such-script"}}, "job_template"),
        ({"job_template": {"type": "api_post", "url": "ftp://example.com"}}, "job_template"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], overrides: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=scheduler(**overrides), headers=admin_headers)
    assert response.status_code == 422, response.text
    assert field in [error["loc"][1] for error in response.json()["detail"]]


def test_regular_users_cannot_touch_schedulers(client: TestClient, make_user: Any) -> None:
    headers = make_user()
    assert client.get(URL, headers=headers).status_code == 403
    assert client.post(URL, json=scheduler(), headers=headers).status_code == 403


def test_a_template_error_names_the_field_inside_the_template(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(URL, json=scheduler(job_template={"type": "command"}), headers=admin_headers)
    assert response.json()["detail"][0]["loc"] == ["body", "job_template", "command"]


def test_the_draft_preview_shows_the_next_times_of_an_unsaved_expression(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"trigger_type": "cron", "cron": "*/15 * * * *", "timezone": "America/Chicago", "count": 5}
    response = client.post(f"{URL}/preview", json=body, headers=admin_headers)
    assert response.status_code == 200
    assert len(response.json()["times"]) == 5
    bad = client.post(f"{URL}/preview", json={**body, "cron": "61 * * * *"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "cron"]
    folder = client.post(f"{URL}/preview", json={**body, "timezone": "America"}, headers=admin_headers)
    assert folder.status_code == 422 and folder.json()["detail"][0]["loc"] == ["body", "timezone"]


def test_its_jobs_are_named_after_it_and_their_page_links_to_it_by_name(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    unnamed = {"type": "command", "command": "echo 'a long shell line' | tr a-z A-Z"}
    created = client.post(URL, json=scheduler(name="nightly backup", job_template=unnamed), headers=admin_headers)
    assert created.status_code == 201, created.text
    scheduler_id = created.json()["id"]
    job = client.post(f"{URL}/{scheduler_id}/run-now", headers=admin_headers).json()
    assert job["name"] == "nightly backup"
    named = client.post(f"{URL}", json=scheduler(name="greeter"), headers=admin_headers).json()
    assert client.post(f"{URL}/{named['id']}/run-now", headers=admin_headers).json()["name"] == "say hi"
    browser = log_in_browser(client, ADMIN["username"], ADMIN["password"])
    page = browser.get(f"/jobs/{job['id']}").text
    assert f'<a href="/schedulers/{scheduler_id}">nightly backup</a>' in page
    client.delete(f"{URL}/{scheduler_id}", headers=admin_headers)
    assert f"#{scheduler_id} (deleted)" in browser.get(f"/jobs/{job['id']}").text
