"""Restart recovery (the ledger rule of docs/design.md) and shutdown with jobs running, against the real launcher."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, group_members, job, log_text, wait_status
from tests.support.waiting import wait_for


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_after_a_sigkill_running_jobs_fail_or_run_again_and_queued_ones_run_once(tmp_path: Path) -> None:
    data, runs = tmp_path / "data", tmp_path / "runs"
    runs.mkdir()
    first = start_app(data, env=app_env(WORKERS_DEFAULT="2", **ADMIN_ENV))
    auth = login(first.http, ADMIN["username"], ADMIN["password"])
    no_retry = create(first.http, auth, type="command", command=f"echo run >> {runs}/a; sleep 100")
    retried = create(
        first.http,
        auth,
        type="command",
        max_retries=1,
        command=f"echo run >> {runs}/b; while [ ! -e {tmp_path}/go ]; do sleep 0.05; done",
    )
    old_groups = [
        wait_status(first.http, auth, created["id"], "running")
        and wait_for(lambda c=created: job(first.http, auth, c["id"])["pid"])
        for created in (no_retry, retried)
    ]
    waiting = create(first.http, auth, type="command", command=f"echo run >> {runs}/c")
    assert job(first.http, auth, waiting["id"])["status"] == "queued"  # both workers are busy
    first.stop(signal.SIGKILL)

    second = start_app(data, env=app_env(WORKERS_DEFAULT="2", **ADMIN_ENV))
    try:
        auth = login(second.http, ADMIN["username"], ADMIN["password"])
        failed = wait_status(second.http, auth, no_retry["id"], "failed")
        assert failed["error"] == "interrupted by restart" and failed["attempt"] == 1
        assert "interrupted by restart; failed" in log_text(second.http, auth, no_retry["id"])
        wait_status(second.http, auth, waiting["id"], "done")
        again = wait_status(second.http, auth, retried["id"], "running")
        assert again["attempt"] == 2
        (tmp_path / "go").touch()
        assert wait_status(second.http, auth, retried["id"])["status"] == "done"
        for pgid in old_groups:  # the dead server's children were ended, not left as orphans
            assert group_members(pgid) == []
        listing = second.http.get("/api/v1/jobs", headers=auth).json()
        assert listing["total"] == 3
    finally:
        second.stop()
    assert (len(lines(runs / "a")), len(lines(runs / "b")), len(lines(runs / "c"))) == (1, 2, 1)


def test_shutdown_ends_running_process_groups_and_marks_their_jobs_within_10_s(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = start_app(data, env=app_env(**ADMIN_ENV))
    auth = login(app.http, ADMIN["username"], ADMIN["password"])
    stubborn = create(app.http, auth, type="command", command="trap '' TERM; sleep 100 & sleep 100")  # needs SIGKILL
    pgid = wait_for(lambda: job(app.http, auth, stubborn["id"])["pid"])
    started = time.monotonic()
    assert app.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - started < 10
    assert group_members(pgid) == []
    with sqlite3.connect(data / "vcore.sqlite3") as conn:
        status, error = conn.execute("SELECT status, error FROM job WHERE id = ?", (stubborn["id"],)).fetchone()
    assert (status, error) == ("failed", "interrupted by shutdown")
