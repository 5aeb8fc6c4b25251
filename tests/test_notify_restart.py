"""A crash between the job's final commit and the send loses nothing and sends nothing twice: a real
server is killed with SIGKILL while its webhook is unreachable, then restarted with the receiver up."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, free_port, wait_until_healthy
from tests.support.auth import login
from tests.support.notify import STARTUP_SECONDS, eventually, webhook_receiver

SECRET = "restart-signing-secret"


def test_kill_9_after_the_final_commit_delivers_after_restart_exactly_once(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    port = free_port()  # nothing listens here until after the crash
    env = app_env(
        **ADMIN_ENV,
        NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        NOTIFY_WEBHOOK_SECRET=SECRET,
        NOTIFY_RETRY_BASE_SECONDS="600",
    )
    app = launch(tmp_path / "data", env=env, wait=False)
    wait_until_healthy(app, timeout=STARTUP_SECONDS)
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    job = app.http.post(
        "/api/v1/jobs", json={"type": "command", "command": "exit 7", "name": "doomed"}, headers=headers
    ).json()
    eventually(lambda: app.http.get(f"/api/v1/jobs/{job['id']}", headers=headers).json()["status"] == "failed")
    [row] = eventually(lambda: app.http.get("/api/v1/notifications/deliveries", headers=headers).json()["items"])
    assert row["status"] in ("pending", "sending")  # committed with the job, not delivered
    app.stop(signal.SIGKILL)

    with webhook_receiver(secret=SECRET, port=port) as hook:
        again = launch(tmp_path / "data", env=env, wait=False)
        wait_until_healthy(again, timeout=STARTUP_SECONDS)
        headers = login(again.http, ADMIN["username"], ADMIN["password"])

        def delivered() -> dict[str, object] | None:
            items = again.http.get("/api/v1/notifications/deliveries", headers=headers).json()["items"]
            return items[0] if items and items[0]["status"] == "sent" else None

        # The first attempt failed before the crash and would retry in 10 minutes; the restart sends now.
        sent = eventually(delivered, timeout=120)
        assert sent["id"] == row["id"]
        [received] = hook.requests
        assert received["status"] == 200 and received["event"] == "failed"
        assert received["body"]["job"]["id"] == job["id"] and received["delivery"] == str(row["id"])
        # Nothing else is on its way: the history holds the one delivery and the sender is idle.
        assert again.http.get("/api/v1/notifications/deliveries?status=pending", headers=headers).json()["total"] == 0
        assert len(again.http.get("/api/v1/notifications/deliveries", headers=headers).json()["items"]) == 1
        assert len(hook.requests) == 1
