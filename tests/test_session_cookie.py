"""The browser session: an HttpOnly SameSite=Lax cookie, and CSRF tokens for what it changes."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import bearer, login_tokens
from vcore_app import db
from vcore_app.app import create_app
from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.users import get_by_username
from vcore_app.web.csrf import CSRF_COOKIE, csrf_token
from vcore_app.web.session import set_session_cookie

API = "/api/v1"


async def _csrf_for_a_form(request: Request) -> JSONResponse:
    """What a template does: ask for the token to put in a form."""
    return JSONResponse({"token": csrf_token(request)})


def _set_cookies(app: Starlette, scheme: str = "http") -> SimpleCookie:
    """The cookies set_session_cookie puts on a response for the admin, as an HTML login handler would."""
    request = Request(
        {
            "type": "http",
            "app": app,
            "scheme": scheme,
            "server": ("testserver", 80),
            "path": "/login",
            "headers": [(b"host", b"testserver")],
            "query_string": b"",
        }
    )
    with db.session(app.state.runtime.engine, readonly=True) as session:
        admin = get_by_username(session=session, username=ADMIN["username"])
    response = Response()
    set_session_cookie(response, request, admin)
    cookies = SimpleCookie()
    for name, value in response.raw_headers:
        if name == b"set-cookie":
            cookies.load(value.decode())
    return cookies


@pytest.fixture
def cookie_client(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client logged in by cookie (the session and the CSRF cookie), nothing else."""
    app = create_app(make_settings(tmp_path, monkeypatch))
    app.router.routes.append(Route(f"{API}/test-csrf-form", _csrf_for_a_form))
    with TestClient(app) as client:
        cookies = _set_cookies(app)
        client.cookies.update({SESSION_COOKIE: cookies[SESSION_COOKIE].value, CSRF_COOKIE: cookies[CSRF_COOKIE].value})
        yield client


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _set_cookies(client.app)[SESSION_COOKIE]
    assert plain["httponly"] and plain["samesite"].lower() == "lax" and plain["path"] == "/"
    assert not plain["secure"]
    assert _set_cookies(client.app, scheme="https")[SESSION_COOKIE]["secure"]
    # Behind a TLS-terminating proxy the request is http, but BASE_URL says https.
    behind_proxy = create_app(
        make_settings(tmp_path, monkeypatch, BASE_URL="https://vcore.example"), runtime=client.app.state.runtime
    )
    assert _set_cookies(behind_proxy)[SESSION_COOKIE]["secure"]
    assert not _set_cookies(client.app)[CSRF_COOKIE]["httponly"], "our pages' scripts must be able to read it"


def test_the_cookie_authenticates_reads(cookie_client: TestClient) -> None:
    assert cookie_client.get(f"{API}/users/me").json()["username"] == ADMIN["username"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"X-CSRF-Token": "wrong"}, 403),
        ("the cookie's token", 201),
    ],
    ids=["no token", "wrong token", "matching token"],
)
def test_a_change_by_cookie_needs_the_csrf_token(cookie_client: TestClient, headers: dict | str, status: int) -> None:
    if headers == "the cookie's token":
        headers = {"X-CSRF-Token": cookie_client.cookies[CSRF_COOKIE]}
    response = cookie_client.post(f"{API}/users/me/api-keys", json={"name": "k"}, headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json() == {"detail": "CSRF token missing or wrong"}


def test_the_csrf_token_may_come_as_a_form_field_and_the_handler_still_reads_the_form(
    cookie_client: TestClient,
) -> None:
    form = {**ADMIN, "csrf_token": cookie_client.cookies[CSRF_COOKIE]}
    response = cookie_client.post(f"{API}/login/access-token", data=form)
    assert response.status_code == 200 and response.json()["token_type"] == "bearer"
    assert cookie_client.post(f"{API}/login/access-token", data={**form, "csrf_token": "wrong"}).status_code == 403


def test_bearer_requests_need_no_csrf_token(client: TestClient, admin_headers: dict) -> None:
    assert client.post(f"{API}/users/me/api-keys", json={"name": "k"}, headers=admin_headers).status_code == 201


def test_a_browser_without_the_csrf_cookie_gets_one_with_the_token_of_its_form(cookie_client: TestClient) -> None:
    del cookie_client.cookies[CSRF_COOKIE]
    response = cookie_client.get(f"{API}/test-csrf-form")
    token = response.json()["token"]
    assert response.cookies[CSRF_COOKIE] == token
    assert cookie_client.get(f"{API}/test-csrf-form").json()["token"] == token, (
        "the same token until the cookie changes"
    )


def test_logout_clears_the_cookie_and_the_old_cookie_no_longer_works(cookie_client: TestClient) -> None:
    session = cookie_client.cookies[SESSION_COOKIE]
    response = cookie_client.post(
        f"{API}/logout", json={}, headers={"X-CSRF-Token": cookie_client.cookies[CSRF_COOKIE]}
    )
    assert response.status_code == 200
    cleared = SimpleCookie(response.headers["set-cookie"])[SESSION_COOKIE]
    assert cleared.value in ("", '""') and cleared["max-age"] == "0"
    cookie_client.cookies.clear()
    cookie_client.cookies[SESSION_COOKIE] = session
    assert cookie_client.get(f"{API}/users/me").status_code == 401


def test_log_out_everywhere_ends_browser_sessions_too(cookie_client: TestClient) -> None:
    session = cookie_client.cookies[SESSION_COOKIE]
    cookie_client.cookies.clear()
    tokens = login_tokens(cookie_client, ADMIN["username"], ADMIN["password"])
    assert cookie_client.post(f"{API}/users/me/logout-all", headers=bearer(tokens["access_token"])).status_code == 200
    cookie_client.cookies[SESSION_COOKIE] = session
    assert cookie_client.get(f"{API}/users/me").status_code == 401
