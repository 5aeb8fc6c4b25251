"""Logging in through the API, and the default-deny gate in front of every non-public path."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.support.apps import ADMIN


def test_the_oauth2_form_and_a_json_body_both_log_in(client: TestClient) -> None:
    for kwargs in ({"data": ADMIN}, {"json": {"username": ADMIN["username"], "password": ADMIN["password"]}}):
        response = client.post("/api/v1/login/access-token", **kwargs)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and body["access_token"] and body["refresh_token"]


def test_the_username_is_case_insensitive(client: TestClient) -> None:
    response = client.post("/api/v1/login/access-token", data={**ADMIN, "username": "ADMIN"})
    assert response.status_code == 200


def test_test_token_returns_the_user_without_secrets(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = client.post("/api/v1/login/test-token", headers=admin_headers).json()
    assert body["username"] == "admin" and body["is_superuser"] is True
    assert not {"hashed_password", "password", "token_version"} & set(body)


def test_unknown_user_and_wrong_password_get_the_same_answer(client: TestClient) -> None:
    unknown = client.post("/api/v1/login/access-token", data={"username": "nobody", "password": "whatever-1"})
    wrong = client.post("/api/v1/login/access-token", data={"username": "admin", "password": "whatever-1"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "Incorrect username or password"}


def test_a_missing_field_is_a_422_naming_it(client: TestClient) -> None:
    response = client.post("/api/v1/login/access-token", json={"username": "admin"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/v1/login/access-token",
        content=b"{" + b" " * 1_100_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_api_paths_need_credentials_and_pages_redirect_to_login(client: TestClient) -> None:
    assert client.post("/api/v1/login/test-token").status_code == 401
    page = client.get("/jobs?status=failed", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fjobs%3Fstatus%3Dfailed"
