"""axe-core over the main pages in a real Chromium, light and dark: no WCAG 2.2 A/AA violation, and
every control's accessible name starts with its visible text (a speech user says what they see).

axe.min.js comes from the axe-playwright-python wheel (pyproject.toml, test extra): installed with
the test dependencies, never fetched while the tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.apps import ADMIN, RunningApp
from tests.support.auth import login
from tests.support.waiting import wait_for

PAGES = [
    "/",
    "/jobs",
    "/jobs/new",
    "/jobs/{job}",
    "/schedulers",
    "/schedulers/new",
    "/schedulers/new?from_job={job}",
    "/schedulers/{scheduler}",
    "/scripts",
    "/scripts/disk_usage",
    "/tools",
    "/tools/cron-preview",
    "/plugins",
    "/profile",
    "/users",
    "/users/1",
    "/logs",
    "/notifications",
    "/audit",
    "/backups",
]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Off by default in axe (experimental), and one of the two failures this test was written for.
EXTRA_RULES = ["label-content-name-mismatch"]


def _axe_source() -> str:
    axe = pytest.importorskip("axe_playwright_python", reason="the test extra installs axe-playwright-python")
    return (Path(axe.__file__).parent / "axe.min.js").read_text()


def _violations(page: Any, source: str) -> list[str]:
    page.evaluate(source)  # through the DevTools protocol: the page's CSP (no inline script) stays on
    found = []
    for options in ({"runOnly": {"type": "tag", "values": TAGS}}, {"runOnly": {"type": "rule", "values": EXTRA_RULES}}):
        result = page.evaluate("options => axe.run(document, options)", options)
        found.extend(
            f"{violation['id']} {node['target']}: {node['failureSummary'].splitlines()[-1].strip()}"
            for violation in result["violations"]
            for node in violation["nodes"]
        )
    return found


@pytest.fixture(scope="module")
def finished_job(ui_app: RunningApp) -> int:
    """A failed job, so the job page shows its actions, its log with timestamps and its error."""
    headers = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    job = ui_app.http.post("/api/v1/jobs", json={"type": "command", "command": "echo hi; exit 2"}, headers=headers)
    job_id: int = job.json()["id"]
    wait_for(lambda: ui_app.http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"] == "failed", 30)
    return job_id


@pytest.fixture(scope="module")
def scheduler(ui_app: RunningApp) -> int:
    """A scheduler whose form shows the job editor with a command, its recent runs and Run now."""
    headers = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    body = {
        "name": "nightly",
        "trigger_type": "cron",
        "cron": "0 3 * * *",
        "job_template": {"type": "command", "command": "echo nightly", "env": {"MODE": "full"}},
    }
    scheduler_id: int = ui_app.http.post("/api/v1/job-schedulers", json=body, headers=headers).json()["id"]
    return scheduler_id


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_main_pages_have_no_accessibility_violations(
    page: Any, ui_app: RunningApp, finished_job: int, scheduler: int, theme: str
) -> None:
    source = _axe_source()
    page.evaluate(f"localStorage.setItem('vc-theme', '{theme}')")
    found = {}
    for path in PAGES:
        page.goto(ui_app.url + path.format(job=finished_job, scheduler=scheduler))
        expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
        if path == "/jobs/{job}":  # the log's timestamps are drawn by jobs.js: check them too
            expect(page.locator("#job-log .vc-log-time").first).to_be_visible()
        violations = _violations(page, source)
        if violations:
            found[path] = violations
    assert not found, found


def test_the_checker_finds_a_name_that_differs_from_the_visible_text(page: Any, ui_app: RunningApp) -> None:
    """So a clean run above means clean pages, not a checker that never looked."""
    source = _axe_source()
    page.goto(f"{ui_app.url}/jobs")
    page.evaluate(
        "() => { const b = document.createElement('button'); b.textContent = 'Rerun';"
        " b.setAttribute('aria-label', 'Run job 1 again'); document.querySelector('main').append(b); }"
    )
    assert any(v.startswith("label-content-name-mismatch") for v in _violations(page, source))
