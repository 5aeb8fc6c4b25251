"""Accounts through the API: registration, one's own profile, and user management by superusers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.apps import make_settings
from tests.support.auth import login
from vcore_app.app import create_app

API = "/api/v1"
NEW = {"username": "bob", "email": "bob@example.com", "password": "bob-password-1"}


@pytest.fixture
def open_client(tmp_path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, monkeypatch, DB_URL=db_url, USERS_OPEN_REGISTRATION=True)
    with TestClient(create_app(settings)) as client:
        yield client


def test_registration_is_refused_with_a_clear_reason_when_it_is_off(client: TestClient) -> None:
    response = client.post(f"{API}/register", json=NEW)
    assert response.status_code == 403
    assert "registration is disabled" in response.json()["detail"]


def test_open_registration_creates_a_regular_user_who_can_log_in(open_client: TestClient) -> None:
    response = open_client.post(f"{API}/register", json={**NEW, "is_superuser": True})
    assert response.status_code == 422, "a registering user cannot choose its role"
    response = open_client.post(f"{API}/register", json=NEW)
    assert response.status_code == 201
    assert response.json()["is_superuser"] is False and "password" not in response.text
    login(open_client, "BOB", NEW["password"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "has space"}, "username"),
        ({"username": ""}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 257}, "password"),
    ],
)
def test_a_bad_field_is_a_422_naming_it(open_client: TestClient, change: dict, field: str) -> None:
    response = open_client.post(f"{API}/register", json={**NEW, **change})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.both_databases
@pytest.mark.parametrize("taken", [{"username": "ADMIN"}, {"email": "Admin@Example.com"}])
def test_a_taken_username_or_email_is_a_409_whatever_the_case(open_client: TestClient, taken: dict) -> None:
    response = open_client.post(f"{API}/register", json={**NEW, **taken})
    assert response.status_code == 409 and response.json()["detail"].startswith("A user with this"), "a sentence"


def test_a_user_reads_and_updates_its_own_profile(client: TestClient, make_user: Callable[..., dict]) -> None:
    headers = make_user("alice")
    response = client.put(f"{API}/users/me", headers=headers, json={"full_name": "Alice A.", "email": "a@example.org"})
    assert response.status_code == 200
    me = client.get(f"{API}/users/me", headers=headers).json()
    assert (me["full_name"], me["email"], me["is_superuser"]) == ("Alice A.", "a@example.org", False)
    assert client.put(f"{API}/users/me", headers=headers, json={"is_superuser": True}).status_code == 422


def test_a_regular_user_may_read_itself_by_id_but_no_one_else(
    client: TestClient, make_user: Callable[..., dict]
) -> None:
    headers = make_user("alice")
    my_id = client.get(f"{API}/users/me", headers=headers).json()["id"]
    assert client.get(f"{API}/users/{my_id}", headers=headers).status_code == 200
    assert client.get(f"{API}/users/1", headers=headers).status_code == 403


@pytest.mark.both_databases
def test_a_superuser_creates_lists_pages_updates_and_deletes_users(client: TestClient, admin_headers: dict) -> None:
    for n in range(3):
        response = client.post(
            f"{API}/users",
            headers=admin_headers,
            json={"username": f"u{n}", "email": f"u{n}@example.com", "password": "user-password-1"},
        )
        assert response.status_code == 201
    page = client.get(f"{API}/users?limit=2&offset=1", headers=admin_headers).json()
    assert page["total"] == 4 and [u["username"] for u in page["items"]] == ["u0", "u1"]
    assert client.get(f"{API}/users?limit=0", headers=admin_headers).status_code == 422

    user_id = page["items"][0]["id"]
    response = client.put(
        f"{API}/users/{user_id}", headers=admin_headers, json={"full_name": "U Zero", "is_superuser": True}
    )
    assert response.status_code == 200 and response.json()["is_superuser"] is True
    assert client.put(f"{API}/users/{user_id}", headers=admin_headers, json={"username": "admin"}).status_code == 409

    assert client.delete(f"{API}/users/{user_id}", headers=admin_headers).status_code == 200
    assert client.get(f"{API}/users/{user_id}", headers=admin_headers).status_code == 404
    assert client.delete(f"{API}/users/{user_id}", headers=admin_headers).status_code == 404


def test_a_superuser_can_set_a_password_and_deactivate_a_user(
    client: TestClient, admin_headers: dict, make_user: Callable[..., dict]
) -> None:
    old_headers = make_user("alice")
    user_id = client.get(f"{API}/users/me", headers=old_headers).json()["id"]
    response = client.put(f"{API}/users/{user_id}", headers=admin_headers, json={"password": "new-password-9"})
    assert response.status_code == 200
    assert client.get(f"{API}/users/me", headers=old_headers).status_code == 401
    new_headers = login(client, "alice", "new-password-9")
    client.put(f"{API}/users/{user_id}", headers=admin_headers, json={"is_active": False})
    assert client.get(f"{API}/users/me", headers=new_headers).status_code == 401
    response = client.post(f"{API}/login/access-token", data={"username": "alice", "password": "new-password-9"})
    assert response.status_code == 401


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PUT", {"is_superuser": False}),
        ("PUT", {"is_active": False}),
        ("DELETE", None),
    ],
)
def test_the_last_active_superuser_cannot_be_demoted_deactivated_or_deleted(
    client: TestClient, admin_headers: dict, method: str, body: dict | None
) -> None:
    response = client.request(method, f"{API}/users/1", headers=admin_headers, json=body)
    assert response.status_code == 409 and "last active superuser" in response.json()["detail"]


def test_a_superuser_can_be_removed_when_another_active_one_remains(
    client: TestClient, admin_headers: dict, make_user: Callable[..., dict]
) -> None:
    make_user("second", superuser=True)
    assert client.put(f"{API}/users/1", headers=admin_headers, json={"is_superuser": False}).status_code == 200


def test_no_answer_holds_a_hash_or_a_token_version(client: TestClient, admin_headers: dict) -> None:
    for path in ("/users/me", "/users", "/users/1"):
        text = client.get(f"{API}{path}", headers=admin_headers).text
        assert "argon2" not in text and "hashed_password" not in text and "token_version" not in text
