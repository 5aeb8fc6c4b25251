"""Refresh rotation with reuse detection, logout, log out everywhere, and password changes."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import bearer, login_tokens

API = "/api/v1"


def _refresh(client: TestClient, token: str) -> tuple[int, dict]:
    response = client.post(f"{API}/login/refresh-token", json={"refresh_token": token})
    return response.status_code, response.json()


def _works(client: TestClient, access_token: str) -> bool:
    return client.post(f"{API}/login/test-token", headers=bearer(access_token)).status_code == 200


def test_a_refresh_token_gives_a_new_pair_and_works_only_once(client: TestClient) -> None:
    first = login_tokens(client, ADMIN["username"], ADMIN["password"])
    status, second = _refresh(client, first["refresh_token"])
    assert status == 200 and second["token_type"] == "bearer"
    assert second["refresh_token"] != first["refresh_token"] and _works(client, second["access_token"])
    status, _ = _refresh(client, second["refresh_token"])
    assert status == 200


def test_reusing_a_refresh_token_is_refused_and_revokes_every_token_of_the_user(client: TestClient) -> None:
    stolen = login_tokens(client, ADMIN["username"], ADMIN["password"])
    other_session = login_tokens(client, ADMIN["username"], ADMIN["password"])
    status, rotated = _refresh(client, stolen["refresh_token"])
    assert status == 200
    status, body = _refresh(client, stolen["refresh_token"])
    assert status == 401 and body == {"detail": "Invalid or used refresh token; log in again"}
    for token in (rotated["access_token"], other_session["access_token"]):
        assert not _works(client, token)
    assert _refresh(client, rotated["refresh_token"])[0] == 401
    assert _works(client, login_tokens(client, ADMIN["username"], ADMIN["password"])["access_token"])


def test_an_access_token_is_not_a_refresh_token(client: TestClient) -> None:
    tokens = login_tokens(client, ADMIN["username"], ADMIN["password"])
    assert _refresh(client, tokens["access_token"])[0] == 401


def test_logout_revokes_the_refresh_token(client: TestClient) -> None:
    tokens = login_tokens(client, ADMIN["username"], ADMIN["password"])
    response = client.post(
        f"{API}/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 200
    assert _refresh(client, tokens["refresh_token"])[0] == 401


def test_log_out_everywhere_ends_every_other_session_and_keeps_this_one(client: TestClient) -> None:
    elsewhere = login_tokens(client, ADMIN["username"], ADMIN["password"])
    here = login_tokens(client, ADMIN["username"], ADMIN["password"])
    response = client.post(f"{API}/users/me/logout-all", headers=bearer(here["access_token"]))
    assert response.status_code == 200
    assert not _works(client, elsewhere["access_token"]) and not _works(client, here["access_token"])
    assert _refresh(client, elsewhere["refresh_token"])[0] == 401
    assert _works(client, response.json()["access_token"])


def test_a_password_change_logs_out_other_sessions(
    client: TestClient, make_user: Callable[..., dict[str, str]]
) -> None:
    make_user("alice", "alice-password-1")
    elsewhere = login_tokens(client, "alice", "alice-password-1")
    here = login_tokens(client, "alice", "alice-password-1")
    response = client.put(
        f"{API}/users/me/password",
        headers=bearer(here["access_token"]),
        json={"current_password": "alice-password-1", "new_password": "alice-password-2"},
    )
    assert response.status_code == 200
    assert not _works(client, elsewhere["access_token"]) and _refresh(client, elsewhere["refresh_token"])[0] == 401
    assert _works(client, response.json()["access_token"])
    login_tokens(client, "alice", "alice-password-2")


def test_a_password_change_needs_the_current_password(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.put(
        f"{API}/users/me/password",
        headers=admin_headers,
        json={"current_password": "wrong-password", "new_password": "admin-password-2"},
    )
    assert response.status_code == 400 and response.json() == {"detail": "Incorrect password"}
    assert client.get(f"{API}/users/me", headers=admin_headers).status_code == 200
