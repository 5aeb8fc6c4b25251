"""Rights follow the user on open WebSockets, against a real server: a change to a user's rights
closes that user's sockets within a second (4401 / 4403 and a reason); a socket closes when its
credential expires; API keys survive "log out everywhere" and a password change."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import bearer, login
from tests.test_job_live import WS

BOB = {"username": "bob", "email": "bob@example.com", "password": "bob-password-1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(tmp_path_factory.mktemp("rights") / "data", env=app_env(**ADMIN_ENV))
    yield app
    app.stop()


@pytest.fixture
def admin(server: RunningApp) -> dict[str, str]:
    return login(server.http, ADMIN["username"], ADMIN["password"])


@pytest.fixture
def bob(server: RunningApp, admin: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A fresh superuser bob for each test (deleted afterwards, if the test did not)."""
    created = server.http.post("/api/v1/users", json={**BOB, "is_superuser": True}, headers=admin)
    assert created.status_code == 201, created.text
    yield {"id": created.json()["id"], "auth": login(server.http, BOB["username"], BOB["password"])}
    server.http.delete(f"/api/v1/users/{created.json()['id']}", headers=admin)


@contextmanager
def open_socket(app: RunningApp, credential: str) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{app.port}{WS}?token={credential}", proxy=None, open_timeout=5) as ws:
        assert "jobs" in json.loads(ws.recv(timeout=10))  # the first snapshot: it is open and serving
        yield ws


def closed_within(ws: ClientConnection, seconds: float) -> tuple[int | None, str | None, float]:
    """Read until the server closes the socket; its close code, reason and how long that took."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=max(seconds - (time.monotonic() - started), 0.01))
    took = time.monotonic() - started
    received = closed.value.rcvd
    return (received.code if received else None), (received.reason if received else None), took


def token_of(auth: dict[str, str]) -> str:
    return auth["Authorization"].split()[1]


CHANGES: dict[str, tuple[Callable[[httpx.Client, dict[str, str], dict[str, Any]], httpx.Response], int, str]] = {
    "deactivation": (
        lambda http, admin, bob: http.put(f"/api/v1/users/{bob['id']}", json={"is_active": False}, headers=admin),
        4401,
        "account deactivated",
    ),
    "demotion": (
        lambda http, admin, bob: http.put(f"/api/v1/users/{bob['id']}", json={"is_superuser": False}, headers=admin),
        4403,
        "role changed",
    ),
    "deletion": (
        lambda http, admin, bob: http.delete(f"/api/v1/users/{bob['id']}", headers=admin),
        4401,
        "account deleted",
    ),
    "log out everywhere": (
        lambda http, admin, bob: http.post("/api/v1/users/me/logout-all", headers=bob["auth"]),
        4401,
        "logged out everywhere",
    ),
    "password change": (
        lambda http, admin, bob: http.put(
            "/api/v1/users/me/password",
            json={"current_password": BOB["password"], "new_password": "bob-password-2"},
            headers=bob["auth"],
        ),
        4401,
        "password changed",
    ),
    "password set by an admin": (
        lambda http, admin, bob: http.put(
            f"/api/v1/users/{bob['id']}", json={"password": "bob-password-3"}, headers=admin
        ),
        4401,
        "password changed",
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_the_users_rights_closes_its_open_socket_within_a_second(
    server: RunningApp, admin: dict[str, str], bob: dict[str, Any], change: str
) -> None:
    act, code, reason = CHANGES[change]
    with open_socket(server, token_of(bob["auth"])) as ws, open_socket(server, token_of(admin)) as bystander:
        answer = act(server.http, admin, bob)
        answered = time.monotonic()
        assert answer.is_success, answer.text
        assert closed_within(ws, 5)[:2] == (code, reason)
        assert time.monotonic() - answered < 1.0  # sent right after the commit, not at the next re-check
        server.http.post("/api/v1/jobs/push-jobs-to-websocket", headers=admin)
        assert "jobs" in json.loads(bystander.recv(timeout=10))  # other users' sockets stay open


def test_api_keys_survive_log_out_everywhere_but_not_deactivation(
    server: RunningApp, admin: dict[str, str], bob: dict[str, Any]
) -> None:
    key = server.http.post("/api/v1/users/me/api-keys", json={"name": "script"}, headers=bob["auth"]).json()["key"]
    with open_socket(server, key) as by_key, open_socket(server, token_of(bob["auth"])) as by_token:
        assert server.http.post("/api/v1/users/me/logout-all", headers=bob["auth"]).is_success
        assert closed_within(by_token, 5)[:2] == (4401, "logged out everywhere")
        assert server.http.get("/api/v1/users/me", headers=bearer(key)).status_code == 200
        server.http.post("/api/v1/jobs/push-jobs-to-websocket", headers=admin)
        assert "jobs" in json.loads(by_key.recv(timeout=10))  # still open and served
        server.http.put(f"/api/v1/users/{bob['id']}", json={"is_active": False}, headers=admin)
        assert closed_within(by_key, 5)[:2] == (4401, "account deactivated")
    assert server.http.get("/api/v1/users/me", headers=bearer(key)).status_code == 401


def test_a_socket_closes_when_its_credential_expires(server: RunningApp, bob: dict[str, Any]) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    key = server.http.post(
        "/api/v1/users/me/api-keys", json={"name": "short", "expires_at": expires.isoformat()}, headers=bob["auth"]
    ).json()["key"]
    with open_socket(server, key) as ws:
        code, reason, _ = closed_within(ws, 15)
        assert (code, reason) == (4401, "credentials expired or revoked")
        assert datetime.now(UTC) >= expires


def test_a_password_set_by_the_cli_closes_the_socket_at_the_next_re_check(
    server: RunningApp, bob: dict[str, Any]
) -> None:
    """A change the server does not hear of (another process) is caught by the periodic re-check."""
    with open_socket(server, token_of(bob["auth"])) as ws:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vcore_app",
                "users",
                "set-password",
                "bob",
                "--password-stdin",
                "--data-dir",
                str(server.data_dir),
            ],
            input="bob-password-4\n",
            text=True,
            check=True,
            capture_output=True,
            env=app_env(),
            timeout=60,
        )
        assert closed_within(ws, 15)[:2] == (4401, "credentials expired or revoked")
