"""Login throttling: 5 failures per username or 20 per address within 10 minutes -> 429."""

from __future__ import annotations

from httpx import Response
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.waiting import wait_for
from vcore_app.auth.throttle import SlidingWindow

API = "/api/v1"


def _login(client: TestClient, username: str, password: str) -> Response:
    return client.post(f"{API}/login/access-token", data={"username": username, "password": password})


def test_five_failures_for_a_username_lock_it_out_with_retry_after(client: TestClient) -> None:
    assert [_login(client, "ADMIN", "wrong-password").status_code for _ in range(5)] == [401] * 5
    locked = _login(client, "admin", "wrong-password")
    assert locked.status_code == 429
    assert 590 <= int(locked.headers["retry-after"]) <= 600
    assert _login(client, ADMIN["username"], ADMIN["password"]).status_code == 429, "or a guess would be confirmed"


def test_successes_do_not_count_and_a_success_clears_earlier_failures(client: TestClient) -> None:
    for _ in range(4):
        assert _login(client, "admin", "wrong-password").status_code == 401
    assert _login(client, ADMIN["username"], ADMIN["password"]).status_code == 200
    for _ in range(4):
        assert _login(client, "admin", "wrong-password").status_code == 401
    assert _login(client, ADMIN["username"], ADMIN["password"]).status_code == 200, "8 failures, but never 5 in a row"


def test_events_leave_the_window_when_it_slides() -> None:
    window = SlidingWindow(limit=1, window=0.05)
    window.hit("key")
    assert window.retry_after("key") > 0
    wait_for(lambda: window.retry_after("key") == 0, timeout=2)


def test_twenty_failures_from_one_address_lock_it_out_whatever_the_usernames(client: TestClient) -> None:
    statuses = [_login(client, f"user{n}", "wrong-password").status_code for n in range(21)]
    assert statuses == [401] * 20 + [429]
