"""Password rules: long and unicode passwords work and are never truncated; no user enumeration."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN

API = "/api/v1"
LONG = "p" * 72 + "A"  # 73 bytes: bcrypt would refuse it, or truncate it to 72
UNICODE = "pässwörd-日本語-🔑"


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post(f"{API}/login/access-token", data={"username": username, "password": password}).status_code


@pytest.mark.parametrize(
    ("password", "near_miss"),
    [
        (LONG, "p" * 72 + "B"),
        ("p" * 256, "p" * 255 + "q"),
        (UNICODE, UNICODE.replace("🔑", "🔒")),
    ],
    ids=["73 bytes", "256 characters", "unicode"],
)
def test_a_password_works_whole_and_a_near_miss_does_not(
    client: TestClient, make_user: Callable[..., dict], password: str, near_miss: str
) -> None:
    make_user("alice", password)
    assert _login(client, "alice", near_miss) == 401, "only the whole password may match"
    assert _login(client, "alice", password) == 200


def test_unknown_user_and_wrong_password_answer_alike_in_status_body_and_time(client: TestClient) -> None:
    def timed(username: str) -> tuple[float, int, str]:
        start = time.perf_counter()
        response = client.post(f"{API}/login/access-token", data={"username": username, "password": "wrong-pass-1"})
        return time.perf_counter() - start, response.status_code, response.text

    unknown, wrong = timed("nobody"), timed(ADMIN["username"])
    assert unknown[1:] == wrong[1:] == (401, '{"detail":"Incorrect username or password"}')
    # Both verify an argon2 hash (the unknown user a dummy one): neither answer is fast.
    assert min(unknown[0], wrong[0]) > 0.3 * max(unknown[0], wrong[0])
