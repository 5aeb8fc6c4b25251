"""Helpers for the job tests: create jobs through the API and wait for them; a loopback HTTP server."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
from starlette.testclient import TestClient

from tests.support.waiting import wait_for
from vcore_app.app import create_app
from vcore_app.settings import Settings

FINISHED = ("done", "failed", "cancelled")


def create(client: Any, auth: dict[str, str], /, **spec: Any) -> dict[str, Any]:
    response = client.post("/api/v1/jobs", json=spec, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def tick_scheduler(client: Any, auth: dict[str, str]) -> int:
    """A scheduler named "tick" that runs `true` every second; its id."""
    body = {
        "name": "tick",
        "trigger_type": "repeat",
        "repeat_every_seconds": 1,
        "job_template": {"type": "command", "command": "true"},
    }
    response = client.post("/api/v1/job-schedulers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def job(client: Any, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def wait_status(
    client: Any, headers: dict[str, str], job_id: int, *statuses: str, timeout: float = 20
) -> dict[str, Any]:
    wanted = statuses or FINISHED
    return wait_for(lambda: (found := job(client, headers, job_id))["status"] in wanted and found, timeout)


def log_text(client: Any, headers: dict[str, str], job_id: int, **params: Any) -> str:
    response = client.get(f"/api/v1/jobs/{job_id}/log", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.text


@contextmanager
def app_client(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    """An in-process app whose settings differ from the `settings` fixture (e.g. one worker)."""
    with TestClient(create_app(settings.model_copy(update=overrides))) as client:
        yield client


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})  # type: ignore[attr-defined]
        status = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/status/") else 200
        payload = json.dumps({"received": body}).encode() if self.path != "/big" else b"x" * 200_000
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def http_server() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on loopback: POST /status/NNN answers NNN, /big answers 200 KB; it records requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def blocker(flag: Path) -> str:
    """A command that runs until `flag` exists: keeps a worker busy without a fixed sleep."""
    return f"while [ ! -e {flag} ]; do sleep 0.02; done"


def group_members(pgid: int) -> list[psutil.Process]:
    """The live processes of process group `pgid` (a job runs in a group of its own)."""
    members = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members
