"""The WebSocket /api/v1/ws/job-queue against a real server: auth, job changes, logs, slow clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, wait_status

WS = "/api/v1/ws/job-queue"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningApp]:
    app = start_app(tmp_path / "data", env=app_env(JOB_LOG_MAX_BYTES="1000000", **ADMIN_ENV))
    yield app
    app.stop()


def socket(app: RunningApp, auth: dict[str, str], **options: Any) -> ClientConnection:
    token = auth["Authorization"].split()[1]
    return connect(f"ws://127.0.0.1:{app.port}{WS}?token={token}", proxy=None, open_timeout=5, **options)


def messages(ws: ClientConnection, until: Any, timeout: float = 20) -> list[dict[str, Any]]:
    """Read messages until `until(message)` holds; all of them, in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        seen.append(message)
        if until(message):
            return seen


def test_without_a_token_the_socket_is_closed_with_1008_before_anything_is_sent(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(WS) as ws:
        ws.receive_text()
    assert closed.value.code == 1008


def test_without_a_token_a_real_server_refuses_the_handshake(server: RunningApp) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{server.port}{WS}?token=not-a-token", proxy=None, open_timeout=5)
    assert refused.value.response.status_code == 403


def test_a_client_sees_a_job_go_queued_running_done_and_its_log_lines(server: RunningApp, tmp_path: Path) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    with socket(server, auth) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert set(first) == {"jobs", "total"} and first["total"] == 0
        created = create(
            server.http,
            auth,
            type="command",
            command=f"while [ ! -e {tmp_path}/go ]; do sleep 0.02; done; echo hello; echo world",
        )
        ws.send(json.dumps({"subscribe_log": created["id"]}))
        seen = messages(ws, lambda m: m.get("subscribed_log") == created["id"])
        (tmp_path / "go").touch()
        seen += messages(ws, lambda m: m.get("job", {}).get("id") == created["id"] and m["job"]["status"] == "done")
        logs = [line for m in seen if "log" in m for line in m["log"]["lines"]]
        if not any(line.endswith("Z world") for line in logs):
            seen += messages(ws, lambda m: "log" in m and any(line.endswith("Z world") for line in m["log"]["lines"]))
        # The coalesced snapshot follows the per-job message within about 0.1 s.
        snapshot = messages(ws, lambda m: "jobs" in m and m["jobs"][0]["status"] == "done")[-1]
    assert snapshot["total"] == 1 and snapshot["jobs"][0]["id"] == created["id"]
    statuses = [m["job"]["status"] for m in seen if m.get("job", {}).get("id") == created["id"]]
    assert statuses[0] == "queued" and statuses[-2:] == ["running", "done"]
    logs = [line for m in seen if "log" in m for line in m["log"]["lines"]]
    assert [line.split("Z ", 1)[1] for line in logs if line.endswith(("Z hello", "Z world"))] == ["hello", "world"]


def test_snapshots_are_coalesced_to_about_ten_per_second(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    with socket(server, auth) as ws:
        ws.recv(timeout=5)
        started = time.monotonic()
        ids = {create(server.http, auth, type="command", command="true")["id"] for _ in range(40)}
        snapshots, job_messages, done = 0, 0, set()

        def all_done(message: dict[str, Any]) -> bool:
            nonlocal snapshots, job_messages
            snapshots += "jobs" in message
            job_messages += "job" in message
            if message.get("job", {}).get("status") == "done":
                done.add(message["job"]["id"])
            return done >= ids

        messages(ws, all_done, timeout=30)
        elapsed = time.monotonic() - started
    # queued, running, done: each one, but a change that finds the job's previous one unsent replaces it
    assert len(ids) <= job_messages <= 3 * len(ids)
    assert snapshots <= elapsed * 10 + 2, (snapshots, elapsed)


def test_a_client_that_stops_reading_does_not_stall_the_others(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    chatty = create(
        server.http, auth, type="command", command="sleep 0.5; yes 'output nobody reads fast enough' | head -c 10000000"
    )
    with socket(server, auth, max_queue=1, close_timeout=0.5) as stuck, socket(server, auth) as reader:
        stuck.send(json.dumps({"subscribe_log": chatty["id"]}))  # then never reads again
        reader.recv(timeout=5)
        wait_status(server.http, auth, chatty["id"], "done", timeout=60)
        quick = create(server.http, auth, type="command", command="true")
        messages(
            reader, lambda m: m.get("job", {}).get("id") == quick["id"] and m["job"]["status"] == "done", timeout=10
        )
