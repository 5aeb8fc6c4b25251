"""A form shown again with errors, in a real Chromium: every error at once, each next to its field,
in plain words, and a summary above the form that takes the focus and links to each field."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.apps import RunningApp


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(page: Any, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/profile")
    form = page.locator("#password-form")
    form.locator("#f-password").fill("short")
    form.locator("#f-password_confirm").fill("other")
    form.locator("button[type=submit]").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please correct these 2 fields")
    expect(page.locator("[data-error-for=current_password]")).to_have_text("Required")
    expect(page.locator("[data-error-for=password]")).to_be_visible()
    links = summary.locator("a")
    expect(links).to_have_count(2)
    expect(links.first).to_have_text("Current password: Required")

    links.nth(1).click()
    expect(page.locator("#f-password")).to_be_focused()


def test_the_new_job_form_uses_its_own_alert_as_the_summary(page: Any, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/jobs/new")
    page.select_option("#f-type", "api_post")
    page.fill("#f-url", "ftp://example.com")
    page.fill("#f-max_retries", "-1")
    page.click("#job-form button[type=submit]")

    summary = page.locator("#job-form-error")
    expect(summary).to_be_focused()
    expect(page.locator("[data-error-summary]")).to_have_count(1)
    expect(summary.locator("a")).to_have_text(
        ["URL: Must start with http:// or https://", "Retries: Enter 0 or more"], use_inner_text=True
    )
