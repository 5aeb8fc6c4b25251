"""The job a scheduler creates, edited in a real browser with the new-job form's editor: no JSON to
type, shown back as typed, the advanced JSON view in sync both ways, and "Schedule this…" from a job."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.support.apps import RunningApp

LIVE = 20_000  # ms: generous for a loaded CI machine; the waits end as soon as the page shows it
QUOTED = "echo \"hello 'world'\""


def _save(page: Page) -> None:
    page.click("#scheduler-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/schedulers/\d+$"))


def _json_view(page: Page) -> dict[str, object]:
    """The advanced view, opened as a person would, read as JSON."""
    view = page.locator("#job-editor details")
    if view.get_attribute("open") is None:
        view.locator("summary").click()
    parsed: dict[str, object] = json.loads(page.locator("#f-job_json").input_value())
    return parsed


def test_a_command_with_quotes_is_scheduled_without_json_and_runs_exactly(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/schedulers/new")
    page.fill("#f-name", "quoted greeting")
    page.select_option("#f-job_type", "command")
    page.fill("#f-job_command", QUOTED)
    _save(page)
    expect(page.locator(".alert-success")).to_contain_text("Scheduler quoted greeting created.")

    expect(page.locator("#f-job_command")).to_have_value(QUOTED)  # as typed, nothing escaped
    expect(page.locator("#f-job_name")).to_have_value("")
    assert _json_view(page) == {"type": "command", "command": QUOTED}  # no defaults, no "name": ""

    page.click("button:has-text('Run now')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    expect(page.locator("#job-command")).to_have_text(QUOTED)
    expect(page.locator("#job-name")).to_have_text("quoted greeting")
    expect(page.locator("#job-log")).to_contain_text("hello 'world'", timeout=LIVE)
    expect(page.locator("#job-status [data-field=status]")).to_have_text("done", timeout=LIVE)


def test_the_json_view_follows_the_fields_and_the_fields_follow_it(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/schedulers/new")
    page.fill("#f-name", "hook caller")
    page.fill("#f-job_command", "echo one")
    page.select_option("#f-job_priority", "high")
    assert _json_view(page) == {"type": "command", "command": "echo one", "priority": "high"}

    typed = '{"type": "api_post", "url": "https://example.com/hook", "headers": {"X-Token": "abc"}, "max_retries": 2}'
    page.fill("#f-job_json", typed)
    expect(page.locator("#f-job_type")).to_have_value("api_post")
    expect(page.locator("#f-job_url")).to_be_visible()
    expect(page.locator("#f-job_command")).to_be_hidden()
    expect(page.locator("#f-job_url")).to_have_value("https://example.com/hook")
    expect(page.locator("#f-job_headers")).to_have_value('{\n  "X-Token": "abc"\n}')
    expect(page.locator("#f-job_priority")).to_have_value("normal")
    expect(page.locator("#f-job_max_retries")).to_have_value("2")

    page.fill("#f-job_json", '{"type": "command", "command": "true", "meta": {"team": "ops"}}')
    expect(page.locator("#job-editor [data-job-json-status]")).to_contain_text("cannot show meta")
    _save(page)
    assert _json_view(page) == {"type": "command", "command": "true", "meta": {"team": "ops"}}  # kept whole
    expect(page.locator("#f-job_command")).to_have_value("true")

    page.fill("#f-job_command", "echo two")  # a key without a field stays in the JSON
    expect(page.locator("#job-editor [data-job-json-status]")).to_contain_text("Kept from the JSON: meta.")
    assert _json_view(page) == {"type": "command", "command": "echo two", "meta": {"team": "ops"}}
    _save(page)
    assert _json_view(page) == {"type": "command", "command": "echo two", "meta": {"team": "ops"}}

    page.fill("#f-job_json", '{"type": "command", "command": "echo three"}')
    page.fill("#f-job_timeout_seconds", "30")  # the fields, edited last, are saved
    _save(page)
    assert _json_view(page) == {"type": "command", "command": "echo three", "timeout_seconds": 30}


def test_schedule_this_fills_the_editor_from_a_job(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/jobs/new")
    page.select_option("#f-type", "command")
    page.fill("#f-name", "greet in tmp")
    page.fill("#f-command", 'echo "$GREETING" from "$(pwd)"')
    page.fill("#f-cwd", "/tmp")
    page.fill("#f-env", "GREETING=hi there")
    page.fill("#f-max_retries", "2")
    page.click("#job-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    expect(page.locator("#job-log")).to_contain_text("hi there from /tmp", timeout=LIVE)

    page.click("text=Schedule this…")
    page.wait_for_url(re.compile(r".*/schedulers/new\?from_job=\d+$"))
    expect(page.locator("#f-name")).to_have_value("greet in tmp")
    expect(page.locator("#f-job_type")).to_have_value("command")
    expect(page.locator("#f-job_command")).to_have_value('echo "$GREETING" from "$(pwd)"')
    expect(page.locator("#f-job_cwd")).to_have_value("/tmp")
    expect(page.locator("#f-job_env")).to_have_value("GREETING=hi there")
    expect(page.locator("#f-job_max_retries")).to_have_value("2")
    _save(page)
    expect(page.locator(".alert-success")).to_contain_text("Scheduler greet in tmp created.")
    expect(page.locator("#f-job_env")).to_have_value("GREETING=hi there")


def test_a_script_scheduler_is_made_from_the_script_s_own_form(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/schedulers/new")
    page.fill("#f-name", "tmp report")
    page.select_option("#f-job_type", "script")
    page.select_option("#f-job_script", "disk_usage")
    expect(page.locator("#f-job_input-disk_usage-top")).to_have_value("10")  # the schema's default
    expect(page.locator("#f-job_input-http_check-url")).to_be_hidden()
    page.fill("#f-job_input-disk_usage-path", "/tmp")
    assert _json_view(page) == {"type": "script", "script": "disk_usage", "input": {"path": "/tmp"}}
    _save(page)
    expect(page.locator(".alert-success")).to_contain_text("Scheduler tmp report created.")
    expect(page.locator("#f-job_script")).to_have_value("disk_usage")
    expect(page.locator("#f-job_input-disk_usage-path")).to_have_value("/tmp")
    assert _json_view(page) == {"type": "script", "script": "disk_usage", "input": {"path": "/tmp"}}

    page.fill("#f-job_json", '{"type": "script", "script": "disk_usage", "input": {"path": "/var", "top": 3}}')
    expect(page.locator("#f-job_input-disk_usage-path")).to_have_value("/var")
    expect(page.locator("#f-job_input-disk_usage-top")).to_have_value("3")
    page.fill("#f-job_input-disk_usage-path", "/tmp")
    _save(page)

    page.click("button:has-text('Run now')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    expect(page.locator("#job-status [data-field=status]")).to_have_text("done", timeout=LIVE)
    expect(page.locator("#job-name")).to_have_text("tmp report")
    expect(page.locator("main")).to_contain_text('"path": "/tmp"')
    expect(page.locator("main")).to_contain_text('"top": 3')


def test_the_form_s_errors_are_announced_in_the_summary_and_lead_to_their_fields(
    page: Page, ui_app: RunningApp
) -> None:
    page.goto(f"{ui_app.url}/schedulers/new")
    page.fill("#f-name", "incomplete")
    page.fill("#f-cron", "0 3 * *")
    page.fill("#f-job_max_retries", "-1")
    page.click("#scheduler-form button[type=submit]")

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_text(  # all at once, the scheduler's and its job's
        [
            "Cron: expected 5 fields (minute hour day month weekday), got 4",
            "Shell command: Field required for a command job",
            "Retries: Enter 0 or more",
        ],
        use_inner_text=True,
    )
    expect(page.locator("#f-job_max_retries")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name")).to_have_value("incomplete")

    page.keyboard.press("Tab")  # from the focused summary to its second link, as a keyboard user would
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#f-job_command")).to_be_focused()
    page.keyboard.type("echo fixed")
    page.fill("#f-cron", "0 3 * * *")
    page.fill("#f-job_max_retries", "1")
    page.click("#scheduler-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/schedulers/\d+$"))
    expect(page.locator(".alert-success")).to_contain_text("Scheduler incomplete created.")
    expect(page.locator("#f-job_command")).to_have_value("echo fixed")
