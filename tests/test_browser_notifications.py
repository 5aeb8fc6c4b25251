"""The Notifications page in Chromium: add a webhook channel, send it a test, see it delivered in the
history; a channel that keeps failing turns unhealthy here and on the dashboard; the history filters;
and a scheduler's notify settings in its form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app, wait_until_healthy
from tests.support.auth import login
from tests.support.browser import log_in, save_screenshot
from tests.support.notify import STARTUP_SECONDS, Receiver, eventually, webhook_receiver


@pytest.fixture(scope="module")
def hooks() -> Iterator[tuple[Receiver, Receiver]]:
    with webhook_receiver(secret="browser-hook-key-0001") as good, webhook_receiver(script=[500] * 100) as bad:
        yield good, bad


@pytest.fixture(scope="module")
def notify_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(
        tmp_path_factory.mktemp("notify-ui") / "data",
        env=app_env(
            **ADMIN_ENV,
            NOTIFY_RETRY_BASE_SECONDS="0.1",
            NOTIFY_MAX_ATTEMPTS="4",
        ),
        wait=False,
    )
    wait_until_healthy(app, timeout=STARTUP_SECONDS)
    yield app
    app.stop()


@pytest.fixture
def tab(browser: Any, notify_app: RunningApp) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, notify_app.url)
    yield page
    context.close()


def _add_channel(tab: Any, name: str, url: str, secret: str = "") -> None:
    tab.fill("#c-name", name)
    tab.select_option("#c-kind", "webhook")
    tab.fill("#c-url", url)
    tab.fill("#c-secret", secret)
    tab.click("#channel-form button[type=submit]")
    expect(tab.locator(".alert-success")).to_contain_text(f"Channel {name} added.")


def test_a_channel_is_added_tested_and_its_delivery_shown(
    tab: Any, notify_app: RunningApp, hooks: tuple[Receiver, Receiver]
) -> None:
    good, _ = hooks
    tab.goto(f"{notify_app.url}/")
    tab.click("nav >> text=Notifications")
    expect(tab.locator("h1")).to_have_text("Notifications")
    _add_channel(tab, "ops-hook", f"{good.url}/in", "browser-hook-key-0001")
    row = tab.locator('tr[data-channel="ops-hook"]')
    expect(row).to_contain_text("…0001")
    expect(tab.locator("body")).not_to_contain_text("browser-hook-key")
    expect(tab.locator("#c-secret")).to_have_value("")
    row.get_by_role("button", name="Send test").click()
    expect(tab.locator(".alert-info")).to_contain_text("Test message queued")
    eventually(lambda: good.accepted("test"))

    def delivered() -> bool:
        tab.reload()
        return tab.locator('#deliveries tr[data-status="sent"]').count() == 1

    eventually(delivered)
    expect(tab.locator("#deliveries")).to_contain_text("Test message from admin")
    expect(row.locator(".vc-channel-status")).to_have_text("healthy")
    expect(row.locator("td").nth(4)).not_to_have_text("—")  # last success
    save_screenshot(tab, "notifications-light")


def test_a_failing_channel_is_unhealthy_here_and_on_the_dashboard(
    tab: Any, notify_app: RunningApp, hooks: tuple[Receiver, Receiver]
) -> None:
    good, bad = hooks
    tab.goto(f"{notify_app.url}/notifications")
    _add_channel(tab, "dead-hook", bad.url)
    _add_channel(tab, "calm-hook", f"{good.url}/calm")  # this test's own: the module's tests run in any order
    tab.locator('tr[data-channel="dead-hook"]').get_by_role("button", name="Send test").click()

    def unhealthy() -> bool:
        tab.reload()
        return tab.locator('tr[data-channel="dead-hook"] .vc-channel-status').inner_text() == "unhealthy"

    eventually(unhealthy)
    expect(tab.locator('tr[data-channel="dead-hook"] .vc-last-error')).to_have_text("webhook answered 500")
    eventually(lambda: (tab.reload(), tab.locator('#deliveries tr[data-status="failed"]').count() == 1)[1])
    tab.select_option("#f-status", "failed")
    tab.click("#history-filter button[type=submit]")
    expect(tab.locator("#deliveries tbody tr")).to_have_count(1)
    expect(tab.locator("#deliveries tbody tr")).to_contain_text("dead-hook")
    expect(tab.locator(".vc-attempt-error")).to_have_count(4)
    tab.select_option("#f-status", "")
    tab.select_option("#f-channel", "calm-hook")
    tab.click("#history-filter button[type=submit]")
    expect(tab.locator("#f-channel")).to_have_value("calm-hook")
    expect(tab.locator("#deliveries tbody")).not_to_contain_text("dead-hook")
    tab.goto(f"{notify_app.url}/")
    alert = tab.locator('[data-unhealthy-channel="dead-hook"]')
    expect(alert).to_contain_text("webhook answered 500")
    alert.get_by_role("link", name="Notifications").click()
    expect(tab.locator("#f-channel")).to_have_value("dead-hook")


def test_the_scheduler_form_sets_and_shows_its_notify_rule(tab: Any, notify_app: RunningApp) -> None:
    tab.goto(f"{notify_app.url}/schedulers/new")
    tab.fill("#f-name", "noisy nightly")
    tab.select_option("#f-job_type", "command")
    tab.fill("#f-job_command", "echo nightly")
    expect(tab.locator("#notify-fields")).to_contain_text("failed, recovered, missed, long_running")
    tab.check("#f-notify-custom")
    tab.check("#f-notify-succeeded")
    tab.check("#f-notify-failed")
    tab.fill("#f-notify-channels", "ops-hook, dead-hook")
    tab.fill("#f-notify-long", "90")
    tab.click("#scheduler-form button[type=submit]")
    tab.wait_for_url(re.compile(rf"{re.escape(notify_app.url)}/schedulers/\d+$"))  # saved, not the form again
    expect(tab.locator("#f-notify-custom")).to_be_checked()
    expect(tab.locator("#f-notify-succeeded")).to_be_checked()
    expect(tab.locator("#f-notify-missed")).not_to_be_checked()
    expect(tab.locator("#f-notify-channels")).to_have_value("ops-hook, dead-hook")
    scheduler_id = tab.url.rsplit("/", 1)[1]
    headers = login(notify_app.http, ADMIN["username"], ADMIN["password"])
    saved = notify_app.http.get(f"/api/v1/job-schedulers/{scheduler_id}", headers=headers).json()
    assert saved["notify"] == {
        "events": ["failed", "succeeded"],
        "channels": ["ops-hook", "dead-hook"],
        "long_running_seconds": 90.0,
    }
    tab.fill("#f-notify-channels", "not a name")
    tab.click("#scheduler-form button[type=submit]")
    expect(tab.locator('[data-error-for="notify"]')).to_contain_text("is not a channel name")
