"""The dashboard in a real browser: status cards, the 24-hour chart with real jobs, both themes."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.apps import ADMIN, RunningApp
from tests.support.auth import login
from tests.support.browser import save_screenshot
from tests.support.waiting import wait_for


def _run_jobs(app: RunningApp) -> None:
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    ids = [
        app.http.post(
            "/api/v1/jobs", json={"type": "command", "command": command, "name": name}, headers=headers
        ).json()["id"]
        for name, command in [
            ("backup photos", "echo ok"),
            ("sync mail", "echo ok"),
            ("check disk", "exit 1"),
            ("rotate logs", "echo ok"),
        ]
    ]

    def finished() -> bool:
        statuses = [app.http.get(f"/api/v1/jobs/{i}", headers=headers).json()["status"] for i in ids]
        return all(status in ("done", "failed") for status in statuses)

    wait_for(finished, timeout=30)


def test_the_dashboard_shows_the_machine_the_queues_and_the_last_day(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    _run_jobs(ui_app)
    page.set_viewport_size({"width": 1280, "height": 800})
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('vc-theme', '{theme}')")
        page.goto(f"{ui_app.url}/")
        expect(page.locator("[data-queue=default]")).to_contain_text("consuming")
        expect(page.locator("svg.vc-chart rect.vc-bar-done")).to_have_count(1)
        expect(page.locator("#recent-failures")).to_contain_text("check disk")
        save_screenshot(page, f"dashboard-{theme}")


def test_stopping_a_queue_asks_first_and_a_job_waiting_on_it_says_so_with_a_start_button(  # type: ignore[no-untyped-def]
    page, ui_app: RunningApp
) -> None:
    """issue 18: a stopped queue is no silent wait."""
    headers = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    page.goto(f"{ui_app.url}/")
    card = page.locator("[data-queue=reserved]")
    card.get_by_role("button", name="Stop").click()  # the page fixture answers "Cancel" to the question
    assert any(question.startswith("Stop queue reserved?") for question in page.dialogs)
    expect(card).to_contain_text("consuming")
    ui_app.http.post("/api/v1/jobs/stop-consumer?queue_name=reserved", headers=headers).raise_for_status()
    try:
        page.reload()
        expect(card).to_contain_text("workers when started")
        waiting = ui_app.http.post(
            "/api/v1/jobs",
            json={"type": "command", "command": "echo waited", "queue_name": "reserved"},
            headers=headers,
        ).json()
        page.goto(f"{ui_app.url}/jobs/{waiting['id']}")
        notice = page.locator("#queue-stopped")
        expect(notice).to_contain_text("Queue reserved is stopped")
        notice.get_by_role("button", name="Start queue reserved").click()
        page.wait_for_url(f"{ui_app.url}/jobs/{waiting['id']}")
        expect(page.locator("#main")).to_contain_text("Queue reserved started")
        expect(page.locator("#job-status")).to_contain_text("done", timeout=30_000)
    finally:
        ui_app.http.post("/api/v1/jobs/start-consumer?queue_name=reserved", headers=headers)
