"""BACKEND_CORS_ORIGINS: preflights answered without credentials, credentials only for listed
origins, never `*` with credentials, and no CORS headers at all when the list is empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import make_settings
from vcore_app.app import create_app

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def cors_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origins: str) -> TestClient:
    return TestClient(create_app(make_settings(tmp_path, monkeypatch, BACKEND_CORS_ORIGINS=origins)))


def test_a_listed_origin_gets_its_preflight_without_credentials_and_may_send_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cors_client(tmp_path, monkeypatch, "https://ui.example, http://localhost:3000") as client:
        answer = client.options("/api/v1/jobs", headers={"Origin": "http://localhost:3000", **PREFLIGHT})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert answer.headers["access-control-allow-credentials"] == "true"
        refused = client.get("/api/v1/jobs", headers={"Origin": "https://ui.example"})
        assert refused.status_code == 401  # CORS opens the door for the browser, not the gate
        assert refused.headers["access-control-allow-origin"] == "https://ui.example"


def test_an_unlisted_origin_gets_no_allow_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cors_client(tmp_path, monkeypatch, "https://ui.example") as client:
        preflight = client.options("/api/v1/jobs", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
        simple = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_any_origin_never_comes_with_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cors_client(tmp_path, monkeypatch, '["*"]') as client:
        answer = client.options("/api/v1/jobs", headers={"Origin": "https://anyone.example", **PREFLIGHT})
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


def test_an_empty_list_adds_no_cors_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cors_client(tmp_path, monkeypatch, "") as client:
        answer = client.get("/healthz", headers={"Origin": "https://ui.example"})
        assert not [name for name in answer.headers if name.startswith("access-control-")]


@pytest.mark.parametrize("origins", ["https://ui.example/path", "ui.example", "*, https://ui.example"])
def test_a_bad_origin_is_refused_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origins: str
) -> None:
    from vcore_app.settings import SettingsError

    with pytest.raises(SettingsError, match="BACKEND_CORS_ORIGINS"):
        make_settings(tmp_path, monkeypatch, BACKEND_CORS_ORIGINS=origins)
