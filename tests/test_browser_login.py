"""The login form, the way back to the page asked for, logout, the theme, and a phone-sized screen."""

from __future__ import annotations

from tests.support.apps import RunningApp


def test_a_page_needing_login_comes_back_after_it(browser, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{ui_app.url}/tools/text-digest")
    assert "/login?next=%2Ftools%2Ftext-digest" in tab.url
    tab.fill("#username", "admin")
    tab.fill("#password", "admin-password-1")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{ui_app.url}/tools/text-digest")
    context.close()


def test_a_wrong_password_shows_an_error_and_no_session(browser, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{ui_app.url}/login")
    tab.fill("#username", "admin")
    tab.fill("#password", "wrong-password")
    tab.click("button[type=submit]")
    assert tab.inner_text("#login-error") == "Incorrect username or password"
    assert not [c for c in context.cookies() if c["name"] == "vcore_session"]
    context.close()


def test_logout_ends_the_session(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.click("nav form[action='/logout'] button")
    page.wait_for_url(f"{ui_app.url}/login")
    page.goto(f"{ui_app.url}/")
    assert "/login?next=%2F" in page.url


def test_the_theme_choice_survives_a_reload(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    html = page.locator("html")
    start = html.get_attribute("data-vc-theme")
    page.click("#theme-toggle")
    chosen = html.get_attribute("data-vc-theme")
    assert chosen != start
    page.reload()
    assert html.get_attribute("data-vc-theme") == chosen
    while html.get_attribute("data-vc-theme") != "dark":
        page.click("#theme-toggle")
    page.reload()
    assert html.get_attribute("data-bs-theme") == "dark"


def test_the_dashboard_fits_a_phone_without_horizontal_scrolling(page, ui_app: RunningApp) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/tools", "/tools/cron-preview"):
        page.goto(f"{ui_app.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
