"""Storm control: 500 jobs failing within a minute make a handful of messages (a few on their own,
the rest in digests), and every failure is accounted for in them."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.notify import eventually, webhook_receiver
from vcore_app.app import create_app

JOBS = 500
BURST = 3
WINDOW = 10.0


def test_five_hundred_failures_in_a_minute_send_a_bounded_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        settings = make_settings(
            tmp_path,
            monkeypatch,
            NOTIFY_WEBHOOK_URL=hook.url,
            NOTIFY_BURST=BURST,
            NOTIFY_DIGEST_WINDOW_SECONDS=WINDOW,
            WORKERS_DEFAULT=4,
        )
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            started = time.monotonic()
            for number in range(JOBS):
                response = client.post(
                    "/api/v1/jobs",
                    headers=headers,
                    json={"type": "command", "command": "exit 1", "name": f"storm-{number}"},
                )
                assert response.status_code == 201, response.text
            eventually(
                lambda: client.get("/api/v1/jobs?status=failed&limit=1", headers=headers).json()["total"] == JOBS,
                timeout=240,
            )
            storm_seconds = time.monotonic() - started  # about 30 s here; more on a loaded machine
            eventually(
                lambda: (
                    client.get("/api/v1/notifications/deliveries?status=pending", headers=headers).json()["total"] == 0
                ),
                timeout=120,
            )
            digested = client.get("/api/v1/notifications/deliveries?status=digested&limit=1", headers=headers).json()
    single = hook.accepted("failed")
    digests = hook.accepted("digest")
    assert len(single) + sum(d["body"]["count"] for d in digests) == JOBS
    assert digested["total"] == JOBS - len(single)
    windows = math.ceil(storm_seconds / WINDOW) + 1
    assert len(hook.requests) <= windows * (BURST + 1), f"{len(hook.requests)} messages in {storm_seconds:.0f} s"
    assert len(hook.requests) <= JOBS // 10, f"{len(hook.requests)} messages for {JOBS} failures"
    assert len(digests[0]["body"]["items"]) == 20 and "storm-" in digests[0]["body"]["items"][0]["title"]
    assert "more 'failed' notifications" in digests[0]["body"]["subject"]
