"""Each job type end to end through the API: to `done` and to `failed`, with its log and result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.jobs import create, http_server, log_text, url_of, wait_status

H = dict[str, str]


@pytest.mark.parametrize(
    ("command", "status", "exit_code", "error"),
    [
        ("echo out; echo err >&2", "done", 0, None),
        ("echo before; exit 3", "failed", 3, "exit code 3"),
    ],
)
def test_a_command_job_runs_and_logs_merged_output_with_timestamps(
    client: TestClient, admin_headers: H, command: str, status: str, exit_code: int, error: str | None
) -> None:
    created = create(client, admin_headers, type="command", command=command, name="c")
    assert created["status"] == "queued"
    finished = wait_status(client, admin_headers, created["id"])
    assert (finished["status"], finished["result"], finished["error"]) == (status, {"exit_code": exit_code}, error)
    assert finished["attempt"] == 1 and finished["started_at"] and finished["finished_at"]
    lines = log_text(client, admin_headers, created["id"]).splitlines()
    assert "attempt 1 of 1" in lines[0]
    assert any(line.endswith(("Z out", "Z before")) for line in lines)
    assert all(line[:4].isdigit() and line[23:25] == "Z " for line in lines)
    assert lines[-1].endswith(f"exit code {exit_code}")


def test_a_command_job_gets_its_cwd_and_env(client: TestClient, admin_headers: H, tmp_path: Path) -> None:
    created = create(
        client,
        admin_headers,
        type="command",
        command='echo "$GREETING from $(pwd)"',
        cwd=str(tmp_path),
        env={"GREETING": "hello"},
    )
    wait_status(client, admin_headers, created["id"], "done")
    assert f"hello from {tmp_path}" in log_text(client, admin_headers, created["id"])


def test_a_script_job_runs_in_a_child_process_and_keeps_its_return_value(
    client: TestClient, admin_headers: H, tmp_path: Path
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "big.bin").write_bytes(b"x" * 5000)
    created = create(
        client, admin_headers, type="script", script="disk_usage", input={"path": str(tmp_path / "folder")}
    )
    finished = wait_status(client, admin_headers, created["id"])
    assert finished["status"] == "done", finished
    assert finished["result"]["output"]["total_bytes"] == 5000
    assert finished["input"] == {"path": str(tmp_path / "folder"), "top": 10}  # defaults filled at create
    assert "5000  big.bin" in log_text(client, admin_headers, created["id"])


def test_a_failing_script_says_why_and_is_not_retried_when_retrying_cannot_help(
    client: TestClient, admin_headers: H, tmp_path: Path
) -> None:
    created = create(
        client, admin_headers, type="script", script="disk_usage", input={"path": str(tmp_path / "nope")}, max_retries=3
    )
    finished = wait_status(client, admin_headers, created["id"])
    assert finished["status"] == "failed"
    assert finished["error"] == f"path='{tmp_path / 'nope'}': not a folder"
    assert finished["attempt"] == 1


def test_a_plugin_script_from_the_data_folder_prints_and_returns(
    client: TestClient, admin_headers: H, settings: Any
) -> None:
    plugin = settings.plugins_dir / "greet.py"
    plugin.write_text(
        "from pydantic import BaseModel\n"
        "from vcore_app.scripts.base import Script\n"
        "class Greet(Script):\n"
        "    name = 'greet'\n"
        "    description = 'Say hello.'\n"
        "    class Input(BaseModel):\n"
        "        who: str\n"
        "    def run(self, input, ctx):\n"
        "        print('hello', input.who, 'from job', ctx.job_id)\n"
        "        return {'greeted': input.who}\n"
    )
    client.app.state.runtime.reload_plugins()
    created = create(client, admin_headers, type="script", script="greet", input={"who": "bob"})
    finished = wait_status(client, admin_headers, created["id"])
    assert finished["status"] == "done", finished
    assert finished["result"]["output"] == {"greeted": "bob"}
    assert f"hello bob from job {created['id']}" in log_text(client, admin_headers, created["id"])


@pytest.mark.parametrize(
    ("spec", "loc"),
    [
        ({"type": "script", "script": "disk_usage", "input": {}}, ["body", "input", "path"]),
        ({"type": "script", "script": "no_such_script"}, ["body", "script"]),
        ({"type": "command"}, ["body", "command"]),
        ({"type": "api_post", "url": "ftp://example.com"}, ["body", "url"]),
        ({"type": "command", "command": "true", "priority": "urgent"}, ["body", "priority"]),
        ({"type": "command", "command": "echo a\x00b"}, ["body", "command"]),
        ({"type": "command", "command": "pwd", "cwd": "/tmp\x00"}, ["body", "cwd"]),
        ({"type": "command", "command": "env", "env": {"A=B": "1"}}, ["body", "env"]),
        ({"type": "command", "command": "env", "env": {"A": "1\x00"}}, ["body", "env"]),
        ({"type": "api_post", "url": "http://"}, ["body", "url"]),
        ({"type": "api_post", "url": "http://[::1"}, ["body", "url"]),
        ({"type": "api_post", "url": "http://example.com", "headers": {"X-A\nB": "1"}}, ["body", "headers"]),
        ({"type": "api_post", "url": "http://example.com", "headers": {"X-A": "1\r\nX-B: 2"}}, ["body", "headers"]),
    ],
)
def test_an_invalid_job_is_a_422_naming_the_field(
    client: TestClient, admin_headers: H, spec: dict[str, Any], loc: list[str]
) -> None:
    response = client.post("/api/v1/jobs", json=spec, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_an_api_post_job_posts_json_and_keeps_status_headers_and_body(client: TestClient, admin_headers: H) -> None:
    with http_server() as server:
        created = create(
            client, admin_headers, type="api_post", url=url_of(server, "/hook"), body={"n": 1}, headers={"X-Token": "t"}
        )
        finished = wait_status(client, admin_headers, created["id"])
        assert finished["status"] == "done", finished
        assert server.requests[0]["body"] == {"n": 1}
        assert server.requests[0]["headers"]["X-Token"] == "t"
    assert finished["result"]["status_code"] == 200
    assert finished["result"]["body"] == '{"received": {"n": 1}}'
    assert finished["result"]["headers"]["content-type"] == "application/json"
    log = log_text(client, admin_headers, created["id"])
    assert "HTTP 200 OK" in log and '{"received": {"n": 1}}' in log


def test_an_api_post_job_keeps_only_the_first_64_kb_of_a_body(client: TestClient, admin_headers: H) -> None:
    with http_server() as server:
        created = create(client, admin_headers, type="api_post", url=url_of(server, "/big"))
        finished = wait_status(client, admin_headers, created["id"])
    assert finished["status"] == "done"
    assert len(finished["result"]["body"]) == 64 * 1024 and finished["result"]["truncated"] is True


@pytest.mark.parametrize(
    ("path", "error", "attempts"),
    [
        ("/status/500", "HTTP 500 Internal Server Error", 2),  # worth retrying
        ("/status/404", "HTTP 404 Not Found", 1),  # will answer the same again
    ],
)
def test_an_api_post_job_fails_on_a_non_2xx_answer(
    client: TestClient, admin_headers: H, path: str, error: str, attempts: int
) -> None:
    with http_server() as server:
        created = create(client, admin_headers, type="api_post", url=url_of(server, path), max_retries=1)
        finished = wait_status(client, admin_headers, created["id"], "failed")
    assert finished["error"] == error
    assert finished["result"]["status_code"] == int(path[-3:])
    assert finished["attempt"] == attempts


def test_an_api_post_job_to_a_closed_port_says_it_could_not_connect(client: TestClient, admin_headers: H) -> None:
    with http_server() as server:
        url = url_of(server, "/gone")
    created = create(client, admin_headers, type="api_post", url=url, request_timeout_seconds=5)
    finished = wait_status(client, admin_headers, created["id"], "failed")
    assert finished["error"].startswith("request failed:")
