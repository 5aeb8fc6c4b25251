"""Hardening in a real browser: a job being killed shows "stopping" until its processes are gone, and a
page of a user who was deactivated leaves for the login page by itself (its WebSocket was closed)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.apps import ADMIN, RunningApp
from tests.support.auth import login
from tests.support.browser import log_in
from tests.test_browser_jobs import LIVE, badge, create_job


def test_a_killed_job_shows_stopping_until_its_processes_are_gone(page: Page, ui_app: RunningApp) -> None:
    # Ignores SIGTERM and leaves its group: it ends only at SIGKILL, after JOB_KILL_GRACE_SECONDS (5 s).
    create_job(page, ui_app.url, "trap '' TERM; setsid sh -c 'trap \"\" TERM; sleep 60' & sleep 60", name="stubborn")
    expect(badge(page)).to_have_text("running", timeout=LIVE)
    page.click("#job-actions button:has-text('Kill')")
    expect(page.locator(".alert-success")).to_contain_text("is stopping.")
    stopping = page.locator("#job-status [data-field=stopping]")
    expect(stopping).to_have_text("stopping")
    assert stopping.get_attribute("title") == "killed by admin"
    expect(badge(page)).to_have_text("running")
    expect(page.locator("#job-actions button:has-text('Kill')")).to_have_count(0)  # asked once is enough
    expect(badge(page)).to_have_text("cancelled", timeout=LIVE)  # pushed over the WebSocket
    expect(stopping).to_have_count(0)


def test_the_open_page_of_a_deactivated_user_goes_to_the_login_page(browser: Any, ui_app: RunningApp) -> None:
    admin = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    created = ui_app.http.post(
        "/api/v1/users",
        json={"username": "carol", "email": "carol@example.com", "password": "carol-password-1"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    context = browser.new_context()
    try:
        carol = context.new_page()
        log_in(carol, ui_app.url, "carol", "carol-password-1")
        with carol.expect_websocket() as opened:
            carol.goto(f"{ui_app.url}/jobs")
        opened.value.wait_for_event("framereceived")  # the server accepted it and sent the first snapshot
        answer = ui_app.http.put(f"/api/v1/users/{created.json()['id']}", json={"is_active": False}, headers=admin)
        assert answer.status_code == 200
        carol.wait_for_url(re.compile(r".*/login\?next=%2Fjobs$"), timeout=LIVE)
    finally:
        context.close()
        ui_app.http.delete(f"/api/v1/users/{created.json()['id']}", headers=admin)
