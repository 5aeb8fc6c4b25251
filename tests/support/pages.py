"""Driving the HTML pages with a TestClient the way a browser does: the login form, the session and
CSRF cookies, the token in every form."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from vcore_app.web.csrf import CSRF_COOKIE

HTML = {"accept": "text/html"}


def log_in_browser(client: TestClient, username: str, password: str) -> TestClient:
    """Log `client` in through the /login form (it keeps the cookies); returns it."""
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def submit(client: TestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with the CSRF token of the client's cookie, without following the redirect."""
    form = {"csrf_token": client.cookies.get(CSRF_COOKIE, ""), **(data or {})}
    return client.post(path, data=form, headers=HTML, follow_redirects=False, **kwargs)


def field_error(html: str, field: str) -> str | None:
    """The error shown next to `field`, if any."""
    import re

    found = re.search(rf'data-error-for="{field}">([^<]*)<', html)
    return found.group(1) if found else None
