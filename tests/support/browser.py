"""For the browser tests (tests/test_browser_*.py): Debian's Chromium driven by Playwright against the app
started on a free port.

The fixtures (`browser`, `ui_app`, `page`) are in conftest.py; every test gets a fresh browser
context (its own cookies and storage) logged in through the real login form.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.apps import ADMIN
from tests.support.machine import CHROMIUM, ROOT, group

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def save_screenshot(page: Any, name: str) -> None:
    """docs/screenshots/<name>.png, only with VCORE_SCREENSHOTS=1 (`make screenshots`): the pictures of
    the README are refreshed on purpose, not rewritten by every test run."""
    if os.environ.get("VCORE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def launch_browser() -> Iterator[Any]:
    browser = group("browser")
    if not browser.present():
        pytest.skip(browser.skip_reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def log_in(page: Any, base_url: str, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
