"""Browser tests: Debian's Chromium driven by Playwright against the app started on a free port.

Every test gets a fresh browser context (its own cookies and storage) logged in through the real
login form; the app is one real server per test module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ADMIN, RunningApp, app_env, start_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


_running: list[object] = []  # the one browser of this test run, once started


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One Chromium for the whole run. Each test module that imports this fixture registers it
    again, and Playwright's sync API cannot start a second time while the first runs: the first
    instance starts (and at the end stops) the browser, later ones share it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    if _running:
        yield _running[0]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        _running.append(launched)
        yield launched
        _running.clear()
        launched.close()


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(tmp_path_factory.mktemp("ui") / "data", env=app_env(
        FIRST_SUPERUSER_USERNAME=ADMIN["username"], FIRST_SUPERUSER_EMAIL=ADMIN["email"],
        FIRST_SUPERUSER_PASSWORD=ADMIN["password"], WORKERS_DEFAULT="2"))
    yield app
    app.stop()


def log_in(page, base_url: str, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def page(browser, ui_app: RunningApp) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A logged-in page of a fresh context; dialogs (alert) are recorded on `page.dialogs`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(20_000)
    log_in(tab, ui_app.url)
    yield tab
    context.close()
