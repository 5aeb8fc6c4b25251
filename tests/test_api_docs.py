"""The API documents itself: the OpenAPI document matches the route list, the docs need a login
unless API_DOCS_PUBLIC, and schemathesis finds no 5xx, no undocumented status and no answer off its
schema when it fuzzes every operation of a running app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, free_port, make_settings, start_app
from tests.support.auth import login
from vcore_app.app import create_app
from vcore_app.web.public import API
from vcore_app.web.routes import routes

DOCS = f"{API}/openapi.json"


def documented(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    response = client.get(DOCS, headers=headers)
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


def test_every_api_route_is_documented_and_every_documented_operation_exists(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    in_app = {
        (method.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in routes()
        if isinstance(route, Route) and route.path.startswith(API)
        for method in route.methods or ()
        if method != "HEAD"
    }
    paths = documented(client, admin_headers)["paths"]
    assert isinstance(paths, dict)
    in_document = {(method, path) for path, operations in paths.items() for method in operations}
    assert in_document == in_app
    operation_ids = [op["operationId"] for operations in paths.values() for op in operations.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in operation_ids)  # good client method names


def test_the_document_declares_bodies_answers_errors_and_the_accepted_credentials(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    document = documented(client, admin_headers)
    create = document["paths"][f"{API}/jobs"]["post"]  # type: ignore[index]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobSpec"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobDetail")
    assert create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ValidationErrorDetail"
    )
    assert create["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorDetail")
    schemes = document["components"]["securitySchemes"]  # type: ignore[index]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == f"{API}/login/access-token"
    assert schemes["APIKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["BearerJWT"]["scheme"] == "bearer"
    login_op = document["paths"][f"{API}/login/access-token"]["post"]  # type: ignore[index]
    assert login_op["security"] == [] and "application/x-www-form-urlencoded" in login_op["requestBody"]["content"]
    assert document["x-websockets"][0]["path"] == f"{API}/ws/job-queue"  # type: ignore[index]


def test_the_docs_need_a_login_unless_api_docs_public(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html = {"accept": "text/html"}
    for folder in ("closed", "open"):
        (tmp_path / folder).mkdir()
    with TestClient(create_app(make_settings(tmp_path / "closed", monkeypatch))) as client:
        assert client.get(DOCS).status_code == 401
        for page in ("/docs", "/redoc"):
            answer = client.get(page, headers=html, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    with TestClient(create_app(make_settings(tmp_path / "open", monkeypatch, API_DOCS_PUBLIC=True))) as client:
        assert client.get(DOCS).status_code == 200
        assert client.get("/docs", headers=html).status_code == 200
        assert client.get(f"{API}/jobs").status_code == 401  # the API itself stays closed


def test_the_docs_pages_load_only_our_own_files_with_no_inline_script(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for page in ("/docs", "/redoc"):
        answer = client.get(page, headers=admin_headers)
        assert answer.status_code == 200
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', answer.text)
        assert sources and all(_same_origin_static(source) for source in sources), sources
        assert "<script>" not in answer.text  # every script is a file
        assert "script-src 'self';" in answer.headers["content-security-policy"]
        for source in sources:
            assert client.get(source).status_code == 200, source


def _same_origin_static(url: str) -> bool:
    parts = urlsplit(url)
    return parts.netloc in ("", "testserver") and parts.path.startswith("/static/")


# -- fuzzing the running app ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """No workers: the jobs the fuzzer invents (shell commands among them) are stored, never run. The
    notification channels it invents (webhooks, Telegram, Apprise at fuzzed addresses) are tried by the
    sender: their HTTP goes to a proxy address where nothing listens, so nothing leaves this machine and
    every such send fails at once."""
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    no_internet = {"HTTP_PROXY": dead_proxy, "HTTPS_PROXY": dead_proxy, "ALL_PROXY": dead_proxy, "NO_PROXY": ""}
    app = start_app(
        tmp_path_factory.mktemp("fuzz") / "data",
        env=app_env(**ADMIN_ENV, **no_internet, WORKERS_DEFAULT="0", WORKERS_RESERVED="0"),
    )
    yield app
    app.stop()


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(quiet_app: RunningApp) -> None:
    http = quiet_app.http
    auth = login(http, ADMIN["username"], ADMIN["password"])
    key = http.post(f"{API}/users/me/api-keys", json={"name": "fuzz"}, headers=auth).json()["key"]
    for _ in range(3):  # something for the fuzzer's small ids to find
        http.post(f"{API}/jobs", json={"type": "command", "command": "true"}, headers=auth).raise_for_status()
    scheduler = {
        "name": "s",
        "trigger_type": "repeat",
        "repeat_every_seconds": 3600,
        "job_template": {"type": "command", "command": "true"},
    }
    http.post(f"{API}/job-schedulers", json=scheduler, headers=auth).raise_for_status()
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{quiet_app.url}{DOCS}",
        "--header",
        f"X-API-Key: {key}",
        "--checks",
        "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
        "--max-examples",
        os.environ.get("VCORE_FUZZ_EXAMPLES", "10"),
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "60",
        "--seed",
        "1",
        "--generation-database",
        "none",
        # Revoking the fuzzer's own key or every token would only leave it 401s to look at; both are
        # covered by tests/test_api_keys.py and tests/test_users_api.py.
        "--exclude-operation-id",
        "delete_key",
        "--exclude-operation-id",
        "logout_all",
    ]
    result = subprocess.run(  # in tmp: schemathesis leaves its own cache folder where it runs
        command, capture_output=True, text=True, timeout=1500, env=app_env(NO_COLOR="1"), cwd=quiet_app.data_dir.parent
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Traceback" not in quiet_app.output()
    assert httpx.get(f"{quiet_app.url}/healthz").status_code == 200
