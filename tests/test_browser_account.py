"""The account pages in a real Chromium: a password reset by mail, API keys on the profile, a user
deactivated by a superuser, and the app log followed live. Screenshots of the profile page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.apps import ADMIN, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.browser import log_in, save_screenshot
from tests.support.mail import Mailbox

TIMEOUT = 20_000


def _confirming_page(
    browser,
    base_url: str,
    username: str = ADMIN["username"],  # type: ignore[no-untyped-def]
    password: str = ADMIN["password"],
    viewport: dict | None = None,
):
    """A fresh logged-in page that answers OK to confirmations and alerts (recorded in `page.dialogs`)."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.accept()))
    tab.set_default_timeout(TIMEOUT)
    log_in(tab, base_url, username, password)
    return tab


@pytest.fixture
def page(browser, ui_app: RunningApp) -> Iterator[object]:  # type: ignore[no-untyped-def]
    tab = _confirming_page(browser, ui_app.url)
    yield tab
    tab.context.close()


@pytest.fixture
def mail_app(tmp_path: Path, smtp_server: Mailbox) -> Iterator[RunningApp]:
    app = start_app(
        tmp_path / "data",
        env=app_env(
            FIRST_SUPERUSER_USERNAME=ADMIN["username"],
            FIRST_SUPERUSER_EMAIL=ADMIN["email"],
            FIRST_SUPERUSER_PASSWORD=ADMIN["password"],
            EMAILS_ENABLED="true",
            SMTP_HOST=smtp_server.host,
            SMTP_PORT=str(smtp_server.port),
            SMTP_TLS="false",
        ),
    )
    yield app
    app.stop()


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    browser,
    mail_app: RunningApp,  # type: ignore[no-untyped-def]
    smtp_server: Mailbox,
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(f"{mail_app.url}/login")
    tab.click("text=Forgot your password?")
    tab.fill("#f-email", ADMIN["email"])
    tab.click("button[type=submit]")
    expect(tab.locator("#recovery-sent")).to_contain_text("a password reset link has been sent")

    body = smtp_server.wait_for_mail(ADMIN["email"]).get_payload(decode=True).decode()
    link = re.search(r"http://\S+/reset-password\?token=\S+", body).group(0)
    tab.goto(link)
    tab.fill("#f-password", "mailed-password-1")
    tab.fill("#f-password_confirm", "mailed-password-1")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{mail_app.url}/login")
    expect(tab.locator(".alert-success")).to_contain_text("Password changed")

    log_in(tab, mail_app.url, ADMIN["username"], "mailed-password-1")
    tab.goto(link)
    expect(tab.locator("[data-form-error]")).to_contain_text("Invalid or expired reset link")
    context.close()


def test_an_api_key_is_shown_once_works_and_is_revoked(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    name = f"ci-{uuid.uuid4().hex[:6]}"
    page.goto(f"{ui_app.url}/profile")
    page.fill("#f-name", name)
    page.select_option("#f-expires_in_days", "90")
    page.click("#api-key-form button[type=submit]")
    page.wait_for_url(f"{ui_app.url}/profile")
    expect(page.locator(".alert-success")).to_contain_text(f"API key {name} created")
    key = page.input_value("#new-key")
    assert key.startswith("vc_")
    page.click("#copy-key")
    expect(page.locator("#copy-status")).not_to_be_empty()

    me = httpx.get(f"{ui_app.url}/api/v1/users/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["username"] == ADMIN["username"]

    # a reload shows the profile again: no second key, and the new one no more
    page.reload()
    row = page.locator(f"#api-keys tr[data-key='{name}']")
    expect(row).to_contain_text(key[:11])
    expect(page.locator("#new-key-card")).to_have_count(0)
    assert key not in page.content(), "shown once: the profile lists only the prefix"
    assert [
        k["name"]
        for k in httpx.get(f"{ui_app.url}/api/v1/users/me/api-keys", headers={"X-API-Key": key}).json()["items"]
    ].count(name) == 1
    _screenshots(page)

    row.locator("button", has_text="Revoke").click()
    expect(page.locator(".alert-success")).to_contain_text("API key revoked")
    assert page.dialogs and page.dialogs[-1].startswith(f"Revoke the API key {name}?")
    expect(page.locator(f"#api-keys tr[data-key='{name}']")).to_have_count(0)
    assert httpx.get(f"{ui_app.url}/api/v1/users/me", headers={"X-API-Key": key}).status_code == 401


def _screenshots(page) -> None:  # type: ignore[no-untyped-def]
    """docs/screenshots/profile-{light,dark}.png, 1280x800, regenerated by every run."""
    page.set_viewport_size({"width": 1280, "height": 800})
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('vc-theme', '{theme}')")
        page.reload()
        assert page.locator("html").get_attribute("data-bs-theme") == theme
        save_screenshot(page, f"profile-{theme}")
    page.evaluate("localStorage.removeItem('vc-theme')")


def test_a_deactivated_user_cannot_log_in(browser, page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    username = f"user-{uuid.uuid4().hex[:6]}"
    page.goto(f"{ui_app.url}/users")
    page.click("text=New user")
    page.fill("#f-username", username)
    page.fill("#f-email", f"{username}@example.com")
    page.fill("#f-password", "short")
    page.click("#user-form button[type=submit]")
    expect(page.locator("[data-error-for=password]")).to_contain_text("Password")
    page.fill("#f-password", "user-password-1")
    page.click("#user-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text(f"User {username} created.")

    page.click("#toggle-active")
    expect(page.locator("#toggle-active")).to_have_text("Activate")
    assert page.dialogs[-1].startswith(f"Deactivate {username}?")

    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{ui_app.url}/login")
    tab.fill("#username", username)
    tab.fill("#password", "user-password-1")
    tab.click("button[type=submit]")
    expect(tab.locator("#login-error")).to_have_text("Incorrect username or password")
    context.close()


def test_a_regular_user_gets_the_403_page_on_users(browser, page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    username = f"reg-{uuid.uuid4().hex[:6]}"
    page.goto(f"{ui_app.url}/users/new")
    page.fill("#f-username", username)
    page.fill("#f-email", f"{username}@example.com")
    page.fill("#f-password", "user-password-1")
    page.click("#user-form button[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    tab = _confirming_page(browser, ui_app.url, username, "user-password-1")
    assert tab.locator("nav a[href='/users']").count() == 0
    response = tab.goto(f"{ui_app.url}/users")
    assert response.status == 403
    expect(tab.locator("main")).to_contain_text("Forbidden")
    tab.context.close()


def test_the_log_page_shows_lines_written_after_it_opened(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{ui_app.url}/logs")
    expect(page.locator("#log-status")).to_contain_text("Live")
    marker = uuid.uuid4().hex
    assert httpx.get(f"{ui_app.url}/api/v1/probe-{marker}").status_code == 401  # the request log writes a line
    expect(page.locator("#app-log")).to_contain_text(f"/api/v1/probe-{marker} 401", timeout=TIMEOUT)

    # A line holding HTML shows as text, and the level filter hides what is less severe.
    with open(ui_app.data_dir / "logs" / "vcore.log", "a") as log:
        log.write(f"2030-01-01 00:00:00.000 | ERROR    | test             | <img src=x onerror=alert(1)> {marker}\n")
    error_line = page.locator(".vc-log-line", has_text=f"<img src=x onerror=alert(1)> {marker}")
    expect(error_line).to_have_attribute("data-level", "ERROR")
    page.select_option("#log-level", "ERROR")
    expect(page.locator(".vc-log-line", has_text=f"probe-{marker}")).to_be_hidden()
    expect(error_line).to_be_visible()
    assert page.locator("#app-log img").count() == 0 and not page.dialogs
    assert page.evaluate(
        "(() => { const b = document.getElementById('app-log');"
        " return b.scrollHeight - b.scrollTop - b.clientHeight < 24; })()"
    ), "it follows the end"


def test_the_account_pages_fit_a_phone_without_horizontal_scrolling(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/profile", "/users", "/users/1", "/users/new", "/logs"):
        page.goto(f"{ui_app.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_the_api_key_table_fits_its_card_on_a_phone_and_a_laptop(browser, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    headers = login(ui_app.http, ADMIN["username"], ADMIN["password"])
    name = f"a rather long key name {uuid.uuid4().hex[:6]}"
    created = ui_app.http.post(
        "/api/v1/users/me/api-keys", json={"name": name, "expires_at": "2099-01-01T00:00:00Z"}, headers=headers
    )
    assert created.status_code == 201, created.text
    for width in (375, 1280):
        tab = _confirming_page(browser, ui_app.url, viewport={"width": width, "height": 800})
        tab.goto(f"{ui_app.url}/profile")
        revoke = tab.locator(f"#api-keys tr[data-key='{name}'] button", has_text="Revoke")
        expect(revoke).to_be_visible()
        page_width = tab.evaluate("document.documentElement.scrollWidth")
        assert page_width <= width, f"at {width} px the page is {page_width} px wide"
        card = tab.locator("section[aria-labelledby=h-keys]").bounding_box()
        button = revoke.bounding_box()
        assert button["x"] + button["width"] <= card["x"] + card["width"], f"Revoke cut off at {width} px"
        tab.context.close()
