"""The dashboard's banner while the data disk is low or full (issue 19), for superusers and users alike.

The thresholds are set above any disk's free space, so a real app sees its disk as low (or full)
without filling one; tests/test_disk_full.py fills a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env
from tests.support.auth import login
from tests.support.browser import log_in

ABOVE_ANY_DISK_MB = str(10**12)
USER = {"username": "bob", "email": "bob@example.com", "password": "bob-password-1"}


@pytest.mark.parametrize(
    ("setting", "level", "who", "says"),
    [
        ("DISK_LOW_WARNING_MB", "low", ADMIN, "The data disk is low"),
        ("DISK_MIN_FREE_MB", "full", USER, "The data disk is full"),
    ],
)
def test_the_dashboard_says_when_the_data_disk_is_low_or_full(  # type: ignore[no-untyped-def]
    browser: Any,
    launch: Callable[..., RunningApp],
    tmp_path,
    setting: str,
    level: str,
    who: dict[str, str],
    says: str,
) -> None:
    app = launch(tmp_path / "data", env=app_env(**{setting: ABOVE_ANY_DISK_MB}, **ADMIN_ENV))
    admin = login(app.http, ADMIN["username"], ADMIN["password"])
    if who is USER:
        assert app.http.post("/api/v1/users", json=USER, headers=admin).status_code in (200, 201)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        log_in(page, app.url, who["username"], who["password"])
        banner = page.locator(f"[data-disk={level}]")
        expect(banner).to_contain_text(says)
        expect(banner).to_contain_text("MB free")
        if level == "full":
            expect(page.locator("[data-queue=default]")).to_contain_text("paused")
    finally:
        context.close()
