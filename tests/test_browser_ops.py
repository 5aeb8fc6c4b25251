"""The operator pages in a real browser: the backup button and download, the audit log with its
filters, the dashboard's storage card and housekeeping button, and deleting a selection of jobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.apps import ADMIN, RunningApp
from tests.support.auth import login
from tests.support.browser import log_in
from tests.support.jobs import create, wait_status
from tests.support.waiting import wait_for

LIVE = 20_000


@pytest.fixture
def confirming(browser: Any, ui_app: RunningApp) -> Iterator[Page]:
    """A logged-in page that answers OK to confirmations (the bulk delete asks)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.set_default_timeout(20_000)
    log_in(tab, ui_app.url)
    yield tab
    context.close()


def test_the_backup_button_writes_an_archive_that_downloads(page: Page, ui_app: RunningApp) -> None:
    page.click("nav >> text=Backups")
    expect(page.locator("#backups-table")).to_contain_text("No backups yet.")
    page.click("#backup-now")
    expect(page.locator(".alert-success")).to_contain_text("Backup vcore-backup-")
    row = page.locator("#backups-table tbody tr[data-archive]")
    expect(row).to_have_count(1)
    name = row.get_attribute("data-archive")
    with page.expect_download() as download:
        row.locator("text=Download").click()
    assert download.value.suggested_filename == name
    assert (ui_app.data_dir / "backups" / str(name)).exists()


def test_the_audit_page_filters_by_actor_action_and_outcome(page: Page, ui_app: RunningApp) -> None:
    ui_app.http.post("/api/v1/login/access-token", data={"username": "mallory", "password": "guess-guess-1"})
    page.click("nav >> text=Audit")
    expect(page.locator("#audit-table")).to_contain_text("login")
    page.fill("#audit-actor", "mallory")
    page.select_option("#audit-outcome", "failed")
    page.click("#audit-filters button[type=submit]")
    rows = page.locator("#audit-table tbody tr[data-action]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("mallory")
    expect(rows.first).to_contain_text("127.0.0.1")
    page.fill("#audit-actor", "")
    page.select_option("#audit-outcome", "")
    page.fill("#audit-action", "housekeeping")
    page.click("#audit-filters button[type=submit]")
    expect(page.locator("#audit-table tbody tr[data-action]").first).to_contain_text("system")
    expect(page.locator("#audit-table tbody tr[data-action=login]")).to_have_count(0)


def test_the_dashboard_shows_storage_and_runs_housekeeping(page: Page, ui_app: RunningApp) -> None:
    card = page.locator("#storage-card")
    expect(card).to_contain_text("job logs")
    expect(card.locator("[data-database=app]")).not_to_have_text("")
    expect(page.locator("#housekeeping-last")).to_contain_text("Housekeeping last ran")
    expect(page.locator("#housekeeping-last")).to_contain_text("removed")
    page.click("#run-housekeeping")
    expect(page.locator(".alert-success")).to_contain_text("Housekeeping started")


def test_a_selection_of_jobs_is_deleted_and_ticks_survive_live_updates(confirming: Page, ui_app: RunningApp) -> None:
    headers = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    ids = [create(ui_app.http, headers, type="command", command="true", name=f"pick {i}")["id"] for i in range(3)]
    for job_id in ids:
        wait_status(ui_app.http, headers, job_id)
    page = confirming
    page.goto(f"{ui_app.url}/jobs")
    page.check(f"#select-{ids[0]}")
    page.check(f"#select-{ids[1]}")
    newer = create(ui_app.http, headers, type="command", command="true", name="arrives meanwhile")["id"]
    expect(page.locator(f'tr[data-job-id="{newer}"]')).to_have_count(1, timeout=LIVE)  # the list redrew itself
    expect(page.locator(f"#select-{ids[0]}")).to_be_checked()
    expect(page.locator(f"#select-{ids[1]}")).to_be_checked()
    page.click("#delete-selected")
    expect(page.locator(".alert-success")).to_contain_text("2 jobs deleted.")
    expect(page.locator(f'tr[data-job-id="{ids[0]}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-job-id="{ids[2]}"]')).to_have_count(1)
    wait_for(lambda: ui_app.http.get(f"/api/v1/jobs/{ids[1]}", headers=headers).status_code == 404)
