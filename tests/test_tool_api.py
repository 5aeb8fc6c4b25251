"""The Quick Tools through their API twin: `GET /api/v1/tools`, `POST /api/v1/tools/{name}` (JSON in,
JSON out; bad input is a 422 naming the field)."""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.machine import group
from vcore_app import db
from vcore_app.app import create_app
from vcore_app.users import create_user

H = dict[str, str]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module: the tools keep no state between calls."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = make_settings(tmp_path_factory.mktemp("tools"), monkeypatch)
        with TestClient(create_app(settings)) as test_client:
            yield test_client


@pytest.fixture(scope="module")
def admin_headers(client: TestClient) -> H:
    return login(client, ADMIN["username"], ADMIN["password"])


def run(client: TestClient, headers: H, tool: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/api/v1/tools/{tool}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["tool"] == tool
    return response.json()["result"]


TOKEN = jwt.encode({"sub": "42", "exp": 1_000_000_000}, "k" * 32, algorithm="HS256")

CASES: list[tuple[str, dict[str, Any], Callable[[Any], bool]]] = [
    (
        "timestamp",
        {"value": "1767225600", "to_timezone": "Asia/Tokyo"},
        lambda r: r["utc"] == "2026-01-01T00:00:00+00:00" and r["local"] == "2026-01-01T09:00:00+09:00",
    ),
    ("timestamp", {"value": "1767225600000"}, lambda r: r["epoch_seconds"] == 1767225600),
    (
        "timestamp",
        {"value": "2026-07-01T12:00", "from_timezone": "Europe/Berlin"},
        lambda r: r["utc"] == "2026-07-01T10:00:00+00:00" and r["epoch_milliseconds"] == 1782907200000 - 7200000,
    ),
    (
        "cidr",
        {"network": "192.168.1.17/24", "contains": "192.168.1.200"},
        lambda r: (
            (r["network"], r["broadcast"], r["first_host"], r["last_host"], r["addresses"], r["contains"])
            == ("192.168.1.0/24", "192.168.1.255", "192.168.1.1", "192.168.1.254", 256, True)
        ),
    ),
    (
        "cidr",
        {"network": "2001:db8::/126", "contains": "10.0.0.1"},
        lambda r: r["version"] == 6 and r["addresses"] == 4 and r["broadcast"] is None and r["contains"] is False,
    ),
    (
        "uuid",
        {"operation": "generate", "version": "7", "count": 3},
        lambda r: (
            len(r["uuids"]) == 3
            and all(uuid.UUID(u).version == 7 and uuid.UUID(u).variant == uuid.RFC_4122 for u in r["uuids"])
        ),
    ),
    ("uuid", {"operation": "generate"}, lambda r: uuid.UUID(r["uuids"][0]).version == 4),
    (
        "uuid",
        {"operation": "inspect", "value": "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"},
        lambda r: r["version"] == 7 and r["time"] == "2022-02-22T19:22:22+00:00",
    ),
    (
        "html-sanitize",
        {"html": '<p onclick="x()">hi<script>alert(1)</script></p>'},
        lambda r: r["after"] == "<p>hi</p>" and r["changed"] is True,
    ),
    (
        "data-formats",
        {"text": '{"b": [1, 2], "a": {"c": true}}', "from_format": "json", "to_format": "yaml"},
        lambda r: r == "b:\n- 1\n- 2\na:\n  c: true\n",
    ),
    (
        "data-formats",
        {"text": "[server]\nport = 5000\n", "from_format": "toml", "to_format": "json", "indent": 0},
        lambda r: r == '{"server": {"port": 5000}}',
    ),
    (
        "data-formats",
        {"text": "name,n\nx,1\ny,2\n", "from_format": "csv", "to_format": "json", "indent": 0},
        lambda r: r == '[{"name": "x", "n": "1"}, {"name": "y", "n": "2"}]',
    ),
    ("data-formats", {"text": '[{"a": 1}, {"b": 2}]', "to_format": "csv"}, lambda r: r == "a,b\n1,\n,2\n"),
    ("encode", {"text": "a b&c/é", "operation": "url-encode"}, lambda r: r == "a%20b%26c%2F%C3%A9"),
    ("encode", {"text": "a%20b", "operation": "url-decode"}, lambda r: r == "a b"),
    ("encode", {"text": "??>", "operation": "base64url-encode"}, lambda r: r == "Pz8-"),
    ("encode", {"text": "Pz8-", "operation": "base64url-decode"}, lambda r: r == "??>"),
    ("encode", {"text": "aGk=", "operation": "base64-decode"}, lambda r: r == "hi"),
    (
        "hmac",
        {"text": "The quick brown fox jumps over the lazy dog", "key": "key"},
        lambda r: r["hex"] == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    ),
    (
        "jwt",
        {"token": TOKEN},
        lambda r: (
            r["claims"] == {"sub": "42", "exp": 1_000_000_000}
            and r["expired"] is True
            and r["header"]["alg"] == "HS256"
            and "without verifying the signature" in r["warning"]
        ),
    ),
    ("text-digest", {"text": "abc", "operation": "md5"}, lambda r: r == "900150983cd24fb0d6963f7d28e17f72"),
    ("cron-preview", {"expression": "0 12 * * *", "count": 2}, lambda r: len(r) == 2),
]


@pytest.mark.parametrize(("tool", "body", "check"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_tool_answers_json(
    client: TestClient, admin_headers: H, tool: str, body: dict[str, Any], check: Callable[[Any], bool]
) -> None:
    result = run(client, admin_headers, tool, body)
    assert check(result), result


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("timestamp", {"value": "yesterday-ish"}, "value", "ISO 8601"),
    ("timestamp", {"value": "now", "to_timezone": "Mars/Olympus"}, "to_timezone", "Unknown IANA time zone"),
    ("cidr", {"network": "300.1.1.0/24"}, "network", "does not appear to be an IPv4 or IPv6 network"),
    (
        "cidr",
        {"network": "10.0.0.0/8", "contains": "nope"},
        "contains",
        "does not appear to be an IPv4 or IPv6 address",
    ),
    ("uuid", {"operation": "inspect", "value": "not-a-uuid"}, "value", "not a UUID"),
    ("uuid", {"count": 1000}, "count", "less than or equal to 100"),
    ("data-formats", {"text": "{nope", "from_format": "json"}, "text", "Not valid JSON"),
    ("data-formats", {"text": "a: [1", "from_format": "yaml"}, "text", "Not valid YAML"),
    ("data-formats", {"text": "[1, 2]", "to_format": "toml"}, "to_format", "TOML needs a table"),
    ("data-formats", {"text": "{}", "to_format": "xml"}, "to_format", "Input should be"),
    ("encode", {"text": "***", "operation": "base64-decode"}, "text", "not valid Base64"),
    ("hmac", {"text": "x", "key": ""}, "key", "at least 1 character"),
    ("jwt", {"token": "abc.def"}, "token", "Not a decodable JWT"),
    ("cron-preview", {"expression": "61 * * * *"}, "input", "not a valid cron expression"),
]


@pytest.mark.parametrize(("tool", "body", "field", "reason"), BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_bad_input_is_a_422_naming_the_field_and_the_reason(
    client: TestClient, admin_headers: H, tool: str, body: dict[str, Any], field: str, reason: str
) -> None:
    response = client.post(f"/api/v1/tools/{tool}", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", field] and reason in problem["msg"], problem


def test_the_list_names_every_tool_with_its_input_schema(client: TestClient, admin_headers: H) -> None:
    items = {item["name"]: item for item in client.get("/api/v1/tools", headers=admin_headers).json()["items"]}
    assert {
        "timestamp",
        "cidr",
        "uuid",
        "html-sanitize",
        "data-formats",
        "encode",
        "hmac",
        "jwt",
        "text-digest",
        "cron-preview",
        "git-status",
    } <= set(items)
    assert items["cidr"]["input_schema"]["required"] == ["network"]


def test_a_body_that_is_not_a_json_object_is_a_422(client: TestClient, admin_headers: H) -> None:
    response = client.post("/api/v1/tools/uuid", content=b"[1]", headers=admin_headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]


def _repo(folder: Path) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    folder.mkdir()
    git("init", "-q", "-b", "trunk")
    git("-c", "user.name=Ada", "-c", "user.email=ada@example.com", "commit", "-q", "--allow-empty", "-m", "first")
    (folder / "new.txt").write_text("x")
    return folder


@pytest.mark.skipif(not group("git").present(), reason=group("git").skip_reason)
def test_git_status_shows_branch_commits_and_changes_to_a_superuser_only(
    client: TestClient, admin_headers: H, tmp_path: Path
) -> None:
    repo = _repo(tmp_path / "repo")
    result = run(client, admin_headers, "git-status", {"path": str(repo)})
    assert result["branch"] == "trunk" and result["dirty"] is True
    assert result["changes"] == [{"status": "??", "path": "new.txt"}]
    assert [(c["author"], c["subject"]) for c in result["commits"]] == [("Ada", "first")]
    not_repo = client.post("/api/v1/tools/git-status", json={"path": str(tmp_path)}, headers=admin_headers)
    assert not_repo.status_code == 422 and "not a git repository" in not_repo.json()["detail"][0]["msg"]
    for bad in ("relative/folder", "~no-such-user-here/repo", f"{repo}\0", "-c"):
        refused = client.post("/api/v1/tools/git-status", json={"path": bad}, headers=admin_headers)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "path"], bad
    with db.session(client.app.state.runtime.engine) as session:
        create_user(session=session, username="alice", email="alice@example.com", password="alice-password-1")
    regular = login(client, "alice", "alice-password-1")
    assert client.post("/api/v1/tools/git-status", json={"path": str(repo)}, headers=regular).status_code == 403
    listed = {item["name"] for item in client.get("/api/v1/tools", headers=regular).json()["items"]}
    assert "git-status" not in listed and "uuid" in listed


def test_the_html_sanitizer_page_shows_before_and_after_escaped(client: TestClient, admin_headers: H) -> None:
    page = client.post(
        "/tools/html-sanitize",
        data={"html": "<b>ok</b><script>x()</script>"},
        headers={**admin_headers, "accept": "text/html"},
    ).text
    assert (
        '<pre class="vc-code mb-0" id="sanitize-before">&lt;b&gt;ok&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;</pre>'
        in page
    )
    assert '<pre class="vc-code mb-0" id="sanitize-after">&lt;b&gt;ok&lt;/b&gt;</pre>' in page


def test_the_jwt_page_warns_that_nothing_was_verified(client: TestClient, admin_headers: H) -> None:
    page = client.post("/tools/jwt", data={"token": TOKEN}, headers={**admin_headers, "accept": "text/html"}).text
    assert 'id="jwt-warning">Decoded without verifying the signature' in page and 'id="jwt-expired"' in page


def test_base64_of_the_hmac_matches_its_hex(client: TestClient, admin_headers: H) -> None:
    result = run(client, admin_headers, "hmac", {"text": "x", "key": "k", "algorithm": "sha512"})
    assert base64.b64decode(result["base64"]).hex() == result["hex"] and len(result["hex"]) == 128
