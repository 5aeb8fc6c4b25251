"""Security headers on every response, whatever its status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.apps import make_settings
from vcore_app.app import create_app

EXPECTED = {
    "content-security-policy": "default-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module: these requests change nothing."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        TestClient(create_app(make_settings(tmp_path_factory.mktemp("headers"), monkeypatch))) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/healthz", {}, 200),
        ("GET", "/api/v1/users/me", {}, 401),
        ("GET", "/jobs", {"follow_redirects": False}, 303),
        ("GET", "/setup", {"headers": {"accept": "text/html"}}, 410),
        ("POST", "/api/v1/login/access-token", {"json": {}}, 422),
        (
            "POST",
            "/api/v1/login/access-token",
            {"content": b"x" * 1_100_000, "headers": {"content-type": "application/json"}},
            413,
        ),
    ],
    ids=["ok", "unauthenticated", "redirect to login", "html 410 (setup done)", "invalid body", "body too large"],
)
def test_every_response_has_the_security_headers(
    app_client: TestClient, method: str, path: str, kwargs: dict, status: int
) -> None:
    response = app_client.request(method, path, **kwargs)
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED
