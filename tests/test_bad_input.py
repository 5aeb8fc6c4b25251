"""Input found by fuzzing the running app answers 4xx naming the problem, never a 500: bodies nested
too deep, ids and offsets beyond 64 bits, NUL in a search, out-of-range edits, and WebSocket
messages of the wrong shape (answered with an error, the connection kept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from websockets.sync.client import connect

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create

H = dict[str, str]
HUGE = "9" * 25  # beyond 2**63 - 1


@pytest.mark.parametrize("path", ["/api/v1/login/access-token", "/api/v1/jobs", "/api/v1/job-schedulers"])
def test_a_body_nested_a_hundred_thousand_deep_is_a_422(client: TestClient, admin_headers: H, path: str) -> None:
    answer = client.post(path, content=b"[" * 100_000, headers={**admin_headers, "content-type": "application/json"})
    assert answer.status_code == 422
    assert "nests deeper" in answer.json()["detail"][0]["msg"]
    object_deep = b'{"a":' * 40 + b"1" + b"}" * 40
    assert (
        client.post(
            path, content=object_deep, headers={**admin_headers, "content-type": "application/json"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    "path", [f"/api/v1/jobs/{HUGE}", f"/api/v1/job-schedulers/{HUGE}", f"/api/v1/users/{HUGE}", f"/jobs/{HUGE}"]
)
def test_an_id_beyond_64_bits_is_not_found(client: TestClient, admin_headers: H, path: str) -> None:
    assert client.get(path, headers=admin_headers).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/users", "/api/v1/job-schedulers", "/jobs"])
def test_an_offset_beyond_64_bits_is_a_422_naming_it(client: TestClient, admin_headers: H, path: str) -> None:
    answer = client.get(path, params={"offset": HUGE}, headers={**admin_headers, "accept": "application/json"})
    assert answer.status_code in (422, 400), answer.text
    if path.startswith("/api/"):
        assert answer.json()["detail"][0]["loc"] == ["query", "offset"]


def test_a_nul_in_search_is_refused_not_a_match_for_everything(client: TestClient, admin_headers: H) -> None:
    create(client, admin_headers, type="command", command="true", name="visible")
    answer = client.get("/api/v1/jobs", params={"search": "\x00"}, headers=admin_headers)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", "search"]


def test_an_edit_beyond_a_limit_is_a_422_naming_the_field(client: TestClient, admin_headers: H) -> None:
    client.post("/api/v1/jobs/stop-consumer", headers=admin_headers).raise_for_status()
    job = create(client, admin_headers, type="command", command="true")
    answer = client.put(f"/api/v1/jobs/{job['id']}", json={"max_retries": 2136}, headers=admin_headers)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "max_retries"]


def test_queue_control_without_a_name_acts_on_both_queues(client: TestClient, admin_headers: H) -> None:
    stopped = client.post("/api/v1/jobs/stop-consumer", headers=admin_headers).json()
    assert stopped["success"] is True and "default and reserved" in stopped["message"]
    assert [queue["consuming"] for queue in stopped["queues"].values()] == [False, False]
    one = client.post("/api/v1/jobs/start-consumer", params={"queue_name": "reserved"}, headers=admin_headers).json()
    assert (one["queues"]["default"]["consuming"], one["queues"]["reserved"]["consuming"]) == (False, True)
    pushed = client.post("/api/v1/jobs/push-jobs-to-websocket", headers=admin_headers).json()
    assert pushed["success"] is True and pushed["message"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(tmp_path_factory.mktemp("bad-input") / "data", env=app_env(**ADMIN_ENV))
    yield app
    app.stop()


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"subscribe_log": 10**30}, "subscribe_log takes a job id"),
        ({"subscribe_log": "1"}, "subscribe_log takes a job id"),
        ({"unsubscribe_log": [1]}, "unsubscribe_log takes a job id"),
        ({"subscribe_log": 987654}, "job 987654 not found"),
    ],
)
def test_a_websocket_message_of_the_wrong_shape_gets_an_error_and_the_connection_stays(
    server: RunningApp, message: dict[str, Any], error: str
) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    token = auth["Authorization"].split()[1]
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/ws/job-queue?token={token}", proxy=None) as ws:
        ws.send(json.dumps(message))
        reply = json.loads(ws.recv(timeout=20))
        while "error" not in reply:  # snapshots of the job list come too
            reply = json.loads(ws.recv(timeout=20))
        assert reply["error"].startswith(error)
        job = create(server.http, auth, type="command", command="true")
        ws.send(json.dumps({"subscribe_log": job["id"]}))  # still open, still answering
        while json.loads(ws.recv(timeout=20)).get("subscribed_log") != job["id"]:
            pass
    assert "Traceback" not in Path(server.log_path).read_text()
