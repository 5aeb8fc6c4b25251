"""The account pages on a real app in-process: users (superusers), profile, app log; errors next to
the fields, roles, CSRF, and escaping."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.pages import HTML, field_error, log_in_browser, submit
from vcore_app import db
from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.users import create_user, get_by_username
from vcore_app.web.flash import COOKIE as FLASH_COOKIE
from vcore_app.web.pages import users as user_pages

REGULAR = {"username": "alice", "password": "alice-password-1"}


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    return log_in_browser(client, ADMIN["username"], ADMIN["password"])


@pytest.fixture
def regular(client: TestClient) -> Iterator[TestClient]:
    """A second browser on the same app, logged in as a regular user."""
    with db.session(client.app.state.runtime.engine) as session:
        create_user(
            session=session, username=REGULAR["username"], email="alice@example.com", password=REGULAR["password"]
        )
    other = TestClient(client.app)  # no `with`: the app's runtime is already started by `client`
    yield log_in_browser(other, REGULAR["username"], REGULAR["password"])
    other.close()


def _can_log_in(client: TestClient, username: str, password: str) -> bool:
    """Through the API, from a client without the browser's cookies."""
    fresh = TestClient(client.app)
    return (
        fresh.post("/api/v1/login/access-token", data={"username": username, "password": password}).status_code == 200
    )


def _user_id(client: TestClient, username: str) -> int:
    with db.session(client.app.state.runtime.engine, readonly=True) as session:
        return get_by_username(session=session, username=username).id


@pytest.mark.parametrize("path", ["/users", "/users/new", "/users/1", "/logs", "/logs/tail"])
def test_a_regular_user_gets_a_403_page_in_the_layout(regular: TestClient, path: str) -> None:
    page = regular.get(path, headers=HTML)
    assert page.status_code == 403
    assert "Forbidden" in page.text and 'href="/profile"' in page.text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/profile", {"full_name": "X", "email": "admin@example.com"}),
        (
            "/profile/password",
            {"current_password": ADMIN["password"], "password": "x" * 12, "password_confirm": "x" * 12},
        ),
        ("/profile/logout-everywhere", {}),
        ("/profile/api-keys", {"name": "k"}),
        ("/users/new", {"username": "bob", "email": "bob@example.com", "password": "bob-password-1"}),
        ("/users/1/set", {"is_active": "false"}),
        ("/users/1/delete", {}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_form_posted_by_cookie_without_the_csrf_token_is_refused(admin: TestClient, path: str, data: dict) -> None:
    response = admin.post(path, data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text


def test_the_users_list_is_paginated_and_escapes_names(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session(admin.app.state.runtime.engine) as session:
        for n in range(3):
            create_user(
                session=session,
                username=f"user{n}",
                email=f"user{n}@example.com",
                password="user-password-1",
                full_name="<script>alert(1)</script>",
            )
    monkeypatch.setattr(user_pages, "PAGE_SIZE", 2)
    first, last = admin.get("/users", headers=HTML), admin.get("/users?page=2", headers=HTML)
    assert first.status_code == last.status_code == 200
    assert 'data-user="admin"' in first.text and 'data-user="user2"' not in first.text
    assert 'data-user="user2"' in last.text and "2 / 2" in last.text
    assert "<script>alert(1)</script>" not in last.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in last.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"username": "bad name!", "email": "b@example.com", "password": "bob-password-1"},
            "username",
            "Use only letters, digits",
        ),
        (
            {"username": "bob", "email": "not-an-address", "password": "bob-password-1"},
            "email",
            "Enter an e-mail address such as name@example.com (An email address must have an @-sign)",
        ),
        ({"username": "bob", "email": "b@example.com", "password": "short"}, "password", "Password"),
    ],
)
def test_creating_a_user_shows_errors_next_to_the_fields(
    admin: TestClient, data: dict, field: str, message: str
) -> None:
    page = submit(admin, "/users/new", data)
    assert page.status_code == 422
    assert message in (field_error(page.text, field) or ""), page.text
    assert 'value="' + data["username"] + '"' in page.text.replace("&#34;", '"'), "what was typed stays"


def test_a_taken_username_is_said_next_to_its_field(admin: TestClient) -> None:
    page = submit(admin, "/users/new", {"username": "admin", "email": "other@example.com", "password": "x-password-1"})
    assert page.status_code == 409
    assert field_error(page.text, "username") == "A user with this username already exists"


def test_a_user_is_created_then_deactivated_and_can_no_longer_log_in(admin: TestClient) -> None:
    created = submit(
        admin,
        "/users/new",
        {
            "username": "bob",
            "email": "bob@example.com",
            "full_name": "Bob",
            "password": "bob-password-1",
            "is_active": "on",
        },
    )
    assert created.status_code == 303
    user_id = _user_id(admin, "bob")
    assert created.headers["location"] == f"/users/{user_id}"
    page = admin.get(created.headers["location"], headers=HTML)
    assert "User bob created." in page.text, "the flash message shows once"
    assert "User bob created." not in admin.get(f"/users/{user_id}", headers=HTML).text

    assert submit(admin, f"/users/{user_id}/set", {"is_active": "false"}).status_code == 303
    assert not _can_log_in(admin, "bob", "bob-password-1")
    assert 'badge text-bg-secondary">inactive' in admin.get("/users", headers=HTML).text


def test_editing_a_user_changes_fields_and_an_empty_password_keeps_the_old_one(admin: TestClient) -> None:
    submit(
        admin,
        "/users/new",
        {"username": "bob", "email": "bob@example.com", "password": "bob-password-1", "is_active": "on"},
    )
    user_id = _user_id(admin, "bob")
    saved = submit(
        admin,
        f"/users/{user_id}",
        {
            "username": "robert",
            "email": "robert@example.com",
            "full_name": "Robert",
            "password": "",
            "is_active": "on",
            "is_superuser": "on",
        },
    )
    assert saved.status_code == 303
    assert _can_log_in(admin, "robert", "bob-password-1")
    page = admin.get(f"/users/{user_id}", headers=HTML)
    assert 'value="Robert"' in page.text and "Remove superuser" in page.text


@pytest.mark.parametrize(
    "action",
    [
        lambda admin, me: submit(
            admin, f"/users/{me}", {"username": "admin", "email": ADMIN["email"], "is_active": "on"}
        ),
        lambda admin, me: submit(admin, f"/users/{me}/set", {"is_superuser": "false"}),
        lambda admin, me: submit(admin, f"/users/{me}/delete"),
    ],
    ids=["demote in the form", "demote by the button", "delete"],
)
def test_the_last_active_superuser_rule_is_a_clear_error(admin: TestClient, action: Callable) -> None:
    me = _user_id(admin, "admin")
    response = action(admin, me)
    if response.status_code == 303:  # the buttons go back to the user's page with the reason
        assert response.headers["location"] == f"/users/{me}"
        response = admin.get(response.headers["location"], headers=HTML)
    else:
        assert response.status_code == 409
    assert "The last active superuser cannot be" in response.text
    assert admin.get("/users", headers=HTML).status_code == 200, "still a superuser"


def test_a_user_is_deleted(admin: TestClient) -> None:
    submit(admin, "/users/new", {"username": "bob", "email": "bob@example.com", "password": "bob-password-1"})
    user_id = _user_id(admin, "bob")
    assert 'data-confirm="Delete bob' in admin.get(f"/users/{user_id}", headers=HTML).text
    deleted = submit(admin, f"/users/{user_id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/users"
    assert "User bob deleted." in admin.get("/users", headers=HTML).text
    assert admin.get(f"/users/{user_id}", headers=HTML).status_code == 404


def test_the_profile_saves_name_and_email_with_errors_next_to_the_fields(regular: TestClient) -> None:
    bad = submit(regular, "/profile", {"full_name": "Alice", "email": "nope"})
    assert bad.status_code == 422 and "Enter an e-mail address" in field_error(bad.text, "email")
    assert submit(regular, "/profile", {"full_name": "Alice A.", "email": "a@example.com"}).status_code == 303
    page = regular.get("/profile", headers=HTML)
    assert 'value="Alice A."' in page.text and 'value="a@example.com"' in page.text and "Profile saved." in page.text


def test_changing_the_password_keeps_this_browser_and_ends_other_sessions(
    client: TestClient, regular: TestClient
) -> None:
    other = TestClient(client.app)
    log_in_browser(other, REGULAR["username"], REGULAR["password"])
    wrong = submit(
        regular,
        "/profile/password",
        {"current_password": "wrong", "password": "new-password-99", "password_confirm": "new-password-99"},
    )
    assert wrong.status_code == 422 and field_error(wrong.text, "current_password") == "Incorrect password"
    differ = submit(
        regular,
        "/profile/password",
        {"current_password": REGULAR["password"], "password": "new-password-99", "password_confirm": "other"},
    )
    assert field_error(differ.text, "password_confirm") == "The two passwords differ"

    done = submit(
        regular,
        "/profile/password",
        {"current_password": REGULAR["password"], "password": "new-password-99", "password_confirm": "new-password-99"},
    )
    assert done.status_code == 303 and SESSION_COOKIE in done.cookies
    assert regular.get("/profile", headers=HTML).status_code == 200, "this browser stays logged in"
    assert other.get("/profile", headers=HTML, follow_redirects=False).status_code == 303, "the other is logged out"
    log_in_browser(TestClient(client.app), REGULAR["username"], "new-password-99")


def test_logging_out_everywhere_keeps_only_this_browser(client: TestClient, regular: TestClient) -> None:
    other = log_in_browser(TestClient(client.app), REGULAR["username"], REGULAR["password"])
    done = submit(regular, "/profile/logout-everywhere")
    assert done.status_code == 303 and done.headers["location"] == "/profile"
    assert "Logged out everywhere else" in regular.get("/profile", headers=HTML).text
    assert other.get("/profile", headers=HTML, follow_redirects=False).status_code == 303


def test_an_api_key_is_shown_once_works_and_is_revoked(regular: TestClient) -> None:
    assert field_error(submit(regular, "/profile/api-keys", {"name": ""}).text, "name")
    created = submit(regular, "/profile/api-keys", {"name": "backup <script>", "expires_in_days": "30"})
    assert created.status_code == 303 and created.headers["location"] == "/profile", "post, redirect, get"
    shown = regular.get("/profile", headers=HTML)
    assert shown.headers["cache-control"] == "no-store"
    key = shown.text.split('id="new-key" value="')[1].split('"')[0]
    assert key.startswith("vc_") and "Your new API key “backup &lt;script&gt;”" in shown.text
    profile = regular.get("/profile", headers=HTML).text
    assert key not in profile and key[:11] in profile, "shown once; then the list shows only the prefix"
    assert len(regular.get("/api/v1/users/me/api-keys").json()["items"]) == 1

    me = regular.get("/api/v1/users/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["username"] == REGULAR["username"]
    key_id = regular.get("/api/v1/users/me/api-keys", headers={"X-API-Key": key}).json()["items"][0]["id"]
    assert submit(regular, f"/profile/api-keys/{key_id}/delete").status_code == 303
    assert regular.get("/api/v1/users/me", headers={"X-API-Key": key}).status_code == 401


def test_someone_elses_api_key_cannot_be_revoked(admin: TestClient, regular: TestClient) -> None:
    submit(admin, "/profile/api-keys", {"name": "admin's"})
    key_id = admin.get("/api/v1/users/me/api-keys").json()["items"][0]["id"]
    assert submit(regular, f"/profile/api-keys/{key_id}/delete").status_code == 404
    assert len(admin.get("/api/v1/users/me/api-keys").json()["items"]) == 1


def test_a_planted_flash_cookie_is_ignored(admin: TestClient) -> None:
    admin.cookies.set(FLASH_COOKIE, "not-base64-json!")
    assert admin.get("/profile", headers=HTML).status_code == 200


def test_the_log_page_and_its_tail_for_a_superuser(admin: TestClient) -> None:
    page = admin.get("/logs", headers=HTML)
    assert page.status_code == 200 and 'src="/static/js/applog.js"' in page.text and "<script>" not in page.text
    log = admin.app.state.settings.logs_dir / "vcore.log"
    log.write_text("2025-01-01 00:00:00.000 | ERROR    | vcore            | <b>boom</b>\n")
    first = admin.get("/logs/tail").json()
    assert first["reset"] and first["lines"] == ["2025-01-01 00:00:00.000 | ERROR    | vcore            | <b>boom</b>"]
    same = admin.get("/logs/tail", params={"offset": first["offset"], "file": first["file_id"]}).json()
    assert same == {**first, "lines": [], "reset": False}
    assert admin.get("/logs/tail", params={"offset": -1}).status_code == 422
