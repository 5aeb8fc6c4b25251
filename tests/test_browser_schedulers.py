"""Scheduler pages: the list, the form (errors next to the fields), toggle, run now, delete; and in a
real browser, the live preview of the next runs as a cron expression is typed."""

from __future__ import annotations

import itertools
import re
from typing import Any

from playwright.sync_api import expect
from starlette.testclient import TestClient

from tests.support.apps import RunningApp
from tests.support.browser import save_screenshot

HTML = {"accept": "text/html"}
FORM = {
    "name": "nightly backup",
    "env_name": "",
    "trigger_type": "cron",
    "cron": "30 2 * * *",
    "timezone": "Europe/Berlin",
    "overlap_policy": "skip",
    "misfire_policy": "run_once",
    "enabled": "on",
    "job_type": "command",
    "job_command": "echo backup",
}


def _create(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post("/schedulers/new", data={**FORM, **changes}, headers={**headers, **HTML}, follow_redirects=False)


def test_the_form_creates_a_scheduler_that_the_list_shows(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = _create(client, admin_headers)
    assert response.status_code == 303 and response.headers["location"].startswith("/schedulers/")
    listing = client.get("/schedulers", headers={**admin_headers, **HTML}).text
    assert "nightly backup" in listing and "<code>30 2 * * *</code>" in listing
    assert "02:30:00 CE" in listing  # next run shown in the scheduler's zone (CET or CEST)


def test_errors_are_shown_next_to_their_fields_and_the_input_is_kept(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    page_ = _create(client, admin_headers, cron="61 * * * *")
    assert page_.status_code == 422
    assert 'data-error-for="cron"' in page_.text and "not a valid cron expression" in page_.text
    assert 'value="nightly backup"' in page_.text
    no_command = _create(client, admin_headers, job_command="")
    assert no_command.status_code == 422
    assert 'data-error-for="job_command">Field required for a command job' in no_command.text
    not_json = _create(client, admin_headers, job_source="json", job_json="{nope")
    assert not_json.status_code == 422 and 'data-error-for="job_json">Not valid JSON' in not_json.text


def test_the_job_is_stored_as_typed_and_shown_back_in_the_editor(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    command = "echo \"hello 'world'\" > /dev/null"
    fields = {"job_command": command, "job_max_retries": "2", "job_priority": "normal", "job_name": ""}
    location = _create(client, admin_headers, **fields).headers["location"]
    scheduler_id = location.rsplit("/", 1)[1]
    stored = client.get(f"/api/v1/job-schedulers/{scheduler_id}", headers=admin_headers).json()["job_template"]
    assert stored == {"type": "command", "max_retries": 2, "command": command}  # no defaults, no "name": ""
    page_ = client.get(location, headers={**admin_headers, **HTML}).text
    assert ">echo &#34;hello &#39;world&#39;&#34; &gt; /dev/null</textarea>" in page_
    assert re.search(r'<input [^>]*id="f-job_max_retries"[^>]*value="2"', page_)


def test_schedule_this_needs_a_job_the_user_may_see(client: TestClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, **HTML}
    assert client.get("/schedulers/new?from_job=999", headers=headers).status_code == 404
    assert client.get("/schedulers/new?from_job=first", headers=headers).status_code == 422


def test_toggle_run_now_and_delete_from_the_list_each_say_so(client: TestClient, admin_headers: dict[str, str]) -> None:
    location = _create(client, admin_headers).headers["location"]
    scheduler_id = location.rsplit("/", 1)[1]
    headers = {**admin_headers, **HTML}
    toggled = client.post(f"/schedulers/{scheduler_id}/toggle", headers=headers)
    assert "Scheduler nightly backup disabled." in toggled.text
    assert client.get(f"/api/v1/job-schedulers/{scheduler_id}", headers=admin_headers).json()["enabled"] is False
    run = client.post(f"/schedulers/{scheduler_id}/run-now", headers=headers, follow_redirects=False)
    assert run.status_code == 303 and run.headers["location"].startswith("/jobs/")
    deleted = client.post(f"/schedulers/{scheduler_id}/delete", headers=headers)
    assert "Scheduler nightly backup deleted." in deleted.text
    assert client.get(f"/api/v1/job-schedulers/{scheduler_id}", headers=admin_headers).status_code == 404


def test_regular_users_get_403_on_scheduler_pages(client: TestClient, make_user: Any) -> None:
    assert client.get("/schedulers", headers={**make_user(), **HTML}).status_code == 403


def test_the_preview_shows_five_runs_and_a_bad_expression_shows_its_error(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{ui_app.url}/schedulers/new")
    page.fill("#f-name", "every quarter hour")
    page.fill("#f-timezone", "America/Chicago")
    page.fill("#f-cron", "*/15 * * * *")
    expect(page.locator("#preview-list li")).to_have_count(5)
    expect(page.locator("#preview-zone")).to_contain_text("America/Chicago")
    page.fill("#f-cron", "61 * * * *")
    expect(page.locator("#cron-error")).to_contain_text("not a valid cron expression")
    expect(page.locator("#f-cron")).to_have_class("form-control font-monospace is-invalid")
    page.fill("#f-cron", "0 9 * * 1-5")
    expect(page.locator("#cron-error")).to_have_text("")
    expect(page.locator("#preview-list li")).to_have_count(5)
    expect(page.locator("#preview-list li").first).to_contain_text("09:00")
    page.set_viewport_size({"width": 1280, "height": 800})
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('vc-theme', '{theme}')")
        page.reload()
        page.fill("#f-name", "weekday mornings")
        page.fill("#f-timezone", "Europe/Berlin")
        page.fill("#f-cron", "0 9 * * 1-5")
        expect(page.locator("#preview-list li").first).to_contain_text("09:00")
        expect(page.locator("#preview-list")).not_to_contain_text("Sat")
        save_screenshot(page, f"scheduler-form-{theme}")
    page.click("#scheduler-form button[type=submit]")
    page.wait_for_url(f"{ui_app.url}/schedulers/*")
    expect(page.locator("#f-name")).to_have_value("weekday mornings")


def test_the_trigger_choice_shows_only_its_fields(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{ui_app.url}/schedulers/new")
    expect(page.locator("#f-timezone")).to_be_visible()
    expect(page.locator("#f-misfire")).to_be_visible()
    page.select_option("#f-trigger_type", "repeat")
    expect(page.locator("#f-repeat_every_seconds")).to_be_visible()
    for meaningless in ("#f-cron", "#f-timezone", "#f-misfire"):
        expect(page.locator(meaningless)).to_be_hidden()
    page.fill("#f-repeat_every_seconds", "90")
    expect(page.locator("#preview-list li")).to_have_count(5)
    page.select_option("#f-trigger_type", "on_start")
    for meaningless in ("#f-repeat_every_seconds", "#f-timezone", "#f-misfire"):
        expect(page.locator(meaningless)).to_be_hidden()


def test_an_unknown_zone_is_reported_under_the_zone_and_the_preview_says_why_it_is_empty(
    page, ui_app: RunningApp
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{ui_app.url}/schedulers/new")
    expect(page.locator("#preview-list li")).to_have_count(5)
    page.fill("#f-timezone", "Mars/Olympus")
    expect(page.locator("#tz-error")).to_have_text("unknown time zone 'Mars/Olympus'")
    expect(page.locator("#f-timezone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#cron-error")).to_have_text("")
    expect(page.locator("#f-cron")).not_to_have_class(re.compile(r"is-invalid"))
    expect(page.locator("#preview-problem")).to_have_text(
        "No runs to show. Time zone: unknown time zone 'Mars/Olympus'"
    )
    expect(page.locator("#preview-list li")).to_have_count(0)

    page.fill("#f-timezone", "Europe/Berlin")
    page.fill("#f-cron", "0 25 * * *")
    expect(page.locator("#preview-problem")).to_contain_text("No runs to show. Cron: not a valid cron expression")
    expect(page.locator("#tz-error")).to_have_text("")
    page.fill("#f-cron", "0 9 * * *")
    expect(page.locator("#preview-problem")).to_be_hidden()
    expect(page.locator("#preview-list li").first).to_contain_text(re.compile(r" 09:00  \(.* UTC\)$"))


def test_a_repeat_every_30_seconds_previews_its_seconds(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{ui_app.url}/schedulers/new")
    page.select_option("#f-trigger_type", "repeat")
    page.fill("#f-repeat_every_seconds", "30")
    stamp = re.compile(r"^\w{3} \d{4}-\d\d-\d\d (\d\d:\d\d:\d\d)\s+\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$")
    times = page.locator("#preview-list li")
    expect(times.first).to_have_text(stamp)  # the cron preview of the page's start is replaced
    expect(times).to_have_count(5)
    seconds = []
    for text in times.all_inner_texts():
        found = stamp.match(text)
        assert found, text
        seconds.append(int(found.group(1)[-2:]))
    assert {(later - earlier) % 60 for earlier, later in itertools.pairwise(seconds)} == {30}  # 30 s apart, visibly
