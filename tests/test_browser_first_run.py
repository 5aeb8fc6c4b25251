"""A new user's first minutes in a real Chromium: empty pages that say what to do next, a menu and a
dashboard that follow the user's role (a regular user's dashboard counts only its own jobs)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env
from tests.support.auth import login
from tests.support.browser import log_in
from tests.support.waiting import wait_for

TIMEOUT = 20_000


def _tab(browser: Any, app: RunningApp, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    log_in(tab, app.url, username, password)
    return tab


def _finished(app: RunningApp, headers: dict[str, str], ids: list[int]) -> None:
    def done() -> bool:
        statuses = [app.http.get(f"/api/v1/jobs/{i}", headers=headers).json()["status"] for i in ids]
        return all(status in ("done", "failed") for status in statuses)

    wait_for(done, timeout=30)


def test_an_empty_app_leads_to_the_first_command(
    browser: Any, launch: Callable[..., RunningApp], tmp_path: Path
) -> None:
    app = launch(tmp_path / "data", env=app_env(**ADMIN_ENV))
    tab = _tab(browser, app)

    steps = tab.locator("#first-steps")
    expect(steps).to_contain_text("You have no jobs yet")
    expect(steps.get_by_role("link", name="Create a scheduler")).to_have_attribute("href", "/schedulers/new")
    expect(steps.get_by_role("link", name="Browse scripts")).to_have_attribute("href", "/scripts")
    expect(tab.locator("#upcoming-runs").get_by_role("link", name="Create a scheduler")).to_be_visible()
    expect(tab.locator("#chart-empty")).to_contain_text("No jobs in the last 24 hours")

    tab.goto(f"{app.url}/jobs")
    tab.locator("#empty-new-job").click()
    tab.wait_for_url(f"{app.url}/jobs/new")

    tab.goto(f"{app.url}/")
    steps.get_by_role("link", name="Run your first command").click()
    expect(tab.locator("#f-type")).to_have_value("command")
    expect(tab.locator("#f-command")).to_have_value('echo "Hello from vcore-app"; uname -a')
    tab.click("#job-form button[type=submit]")
    expect(tab.locator(".alert-success")).to_contain_text("created")
    expect(tab.locator("#job-log")).to_contain_text("Hello from vcore-app", timeout=30_000)

    tab.goto(f"{app.url}/")
    expect(tab.locator("svg.vc-chart rect.vc-bar-done")).to_have_count(1)
    expect(tab.locator("#first-steps")).to_have_count(0)
    expect(tab.locator("#chart-empty")).to_have_count(0)
    tab.context.close()


def test_a_regular_users_menu_and_dashboard_show_only_what_is_theirs(
    browser: Any, ui_app: RunningApp, tmp_path: Path
) -> None:
    admin = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    admin_jobs = [
        ui_app.http.post("/api/v1/jobs", json={"type": "command", "command": command, "name": name}, headers=admin)
        for name, command in [("admin ok", "echo ok"), ("admin ok 2", "echo ok"), ("admin broken", "exit 3")]
    ]
    _finished(ui_app, admin, [response.json()["id"] for response in admin_jobs])

    username = f"reg-{uuid.uuid4().hex[:6]}"
    created = ui_app.http.post(
        "/api/v1/users",
        json={"username": username, "email": f"{username}@example.com", "password": "user-password-1"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    tab = _tab(browser, ui_app, username, "user-password-1")

    menu = tab.locator("#nav")
    expect(menu.get_by_role("link", name="Jobs")).to_be_visible()
    for hidden in ("Schedulers", "Users", "Logs", "Notifications", "Audit", "Backups"):
        expect(menu.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    expect(tab.locator("#upcoming-runs")).to_have_count(0)
    expect(tab.locator("[data-queue=default]")).to_contain_text("workers")
    expect(tab.locator("[data-queue=default]")).not_to_contain_text("waiting")  # everyone's jobs
    expect(tab.locator("#first-steps").get_by_role("link", name="Run your first script")).to_be_visible()
    expect(tab.locator("#first-steps").get_by_role("link", name="Run your first command")).to_have_count(0)
    expect(tab.locator("#first-steps").get_by_role("link", name="Create a scheduler")).to_have_count(0)
    expect(tab.locator("svg.vc-chart rect")).to_have_count(0)
    expect(tab.locator("#recent-failures")).not_to_contain_text("admin broken")

    mine = httpx.post(
        f"{ui_app.url}/api/v1/jobs",
        json={"type": "script", "script": "disk_usage", "input": {"path": str(tmp_path)}, "name": "my disk"},
        headers=login(ui_app.http, username, "user-password-1"),
    )
    assert mine.status_code == 201, mine.text
    _finished(ui_app, admin, [mine.json()["id"]])

    tab.goto(f"{ui_app.url}/")
    totals = tab.locator("#job-totals")
    expect(totals.locator("span", has=tab.locator(".vc-badge-done"))).to_have_text("done 1")
    expect(totals.locator("span", has=tab.locator(".vc-badge-failed"))).to_have_text("failed 0")
    expect(tab.locator("svg.vc-chart rect.vc-bar-done")).to_have_count(1)
    expect(tab.locator("svg.vc-chart rect.vc-bar-failed")).to_have_count(0)
    expect(tab.locator("#recent-failures")).to_contain_text("None.")
    expect(tab.locator("#first-steps")).to_have_count(0)

    # the admin's own dashboard still counts everyone's
    admin_tab = _tab(browser, ui_app)
    expect(admin_tab.locator("#job-totals span", has=admin_tab.locator(".vc-badge-failed"))).not_to_have_text(
        "failed 0"
    )
    expect(admin_tab.locator("#recent-failures")).to_contain_text("admin broken")
    admin_tab.context.close()
    tab.context.close()
