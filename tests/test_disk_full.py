"""A full data disk, end to end (issue 19): a real app whose data folder is a small tmpfs that one of
its own jobs fills. The API answers 507 naming the free space, /healthz says degraded and /readyz 503,
the log says so once; the job that filled the disk is recorded once space returns (it is not left
`running`), new jobs run again and the databases pass `integrity_check`.

Mounting needs root (CI runs these tests as root); elsewhere the tests are skipped, saying so.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from loguru import logger
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.jobs import create, job, log_text, wait_status
from tests.support.machine import group
from tests.support.scheduling import T0, FakeClock, Scene, run_scene
from tests.support.waiting import wait_for
from vcore_app.app import create_app
from vcore_app.jobs.logs import DROPPED, JobLog

DISK_MB = 8


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A DISK_MB tmpfs at tmp_path/disk, unmounted after the test."""
    needs = group("disk full")
    if not needs.present():
        pytest.skip(needs.skip_reason)
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        os.chdir(tmp_path)  # make_settings moved into the mount; monkeypatch restores it later
        subprocess.run(["umount", "-l", str(disk)], check=True)


def checkpoint(path: Path) -> None:
    """Empty the WAL into the database, so the next commit needs new room on the disk."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_full_disk_answers_507_degrades_health_and_the_ledger_catches_up_once_space_returns(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(small_disk, monkeypatch, DISK_MIN_FREE_MB=1, DISK_LOW_WARNING_MB=3, WORKERS_DEFAULT=1)
    full_episodes: list[Any] = []
    sink = logger.add(
        lambda message: full_episodes.append(message), level="ERROR", filter=lambda r: "disk is full" in r["message"]
    )
    filler = settings.DATA_DIR / "filler"
    try:
        with TestClient(create_app(settings)) as client:
            auth = login(client, ADMIN["username"], ADMIN["password"])
            assert client.get("/healthz").json()["status"] == "ok"
            checkpoint(settings.DATA_DIR / "vcore.sqlite3")
            filling = create(
                client, auth, type="command", command=f"head -c {DISK_MB * 2}M /dev/zero > {filler}; exit 3"
            )

            health = wait_for(lambda: (body := client.get("/healthz").json())["status"] == "degraded" and body)
            assert health["disk"]["level"] == "full"
            assert any("the data disk is full" in reason for reason in health["reasons"])
            assert client.get("/readyz").status_code == 503
            for _ in range(3):  # a client retrying: a 507 each time, one log line for the episode
                refused = client.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth)
                assert refused.status_code == 507, refused.text
                assert "the data disk is full:" in refused.json()["detail"]
                assert " MB free" in refused.json()["detail"]
            # Its process has ended, but the write of its outcome found no room: still running, for now.
            pid = wait_for(lambda: job(client, auth, filling["id"])["pid"])
            wait_for(lambda: not psutil.pid_exists(pid))
            assert job(client, auth, filling["id"])["status"] == "running"
            # Any other write finds no room either: a 507 from the failed write itself, not a 500.
            again_login = client.post(
                "/api/v1/login/access-token", data={"username": ADMIN["username"], "password": ADMIN["password"]}
            )
            assert again_login.status_code == 507, again_login.text
            assert again_login.json()["detail"].startswith("the data disk is full: ")

            filler.unlink()
            ended = wait_status(client, auth, filling["id"], timeout=60)
            assert ended["status"] == "failed" and ended["result"] == {"exit_code": 3}
            log = log_text(client, auth, filling["id"])
            assert "outcome recorded" in log and "late: the data disk was full" in log
            assert log.count("failed: exit code 3") <= 1  # noted once (unless it found no room), not per retry

            wait_for(lambda: client.get("/healthz").json()["status"] == "ok", 30)
            assert client.get("/readyz").status_code == 200
            again = create(client, auth, type="command", command="echo room again")
            assert wait_status(client, auth, again["id"], timeout=60)["status"] == "done"
            assert "room again" in log_text(client, auth, again["id"])
    finally:
        logger.remove(sink)
        filler.unlink(missing_ok=True)
    assert len(full_episodes) == 1, full_episodes
    for name in ("vcore.sqlite3", "huey_default.sqlite3", "huey_reserved.sqlite3"):
        assert integrity(settings.DATA_DIR / name) == "ok"


def test_a_job_log_drops_lines_while_the_disk_is_full_and_marks_the_hole_once_space_returns(
    small_disk: Path,
) -> None:
    path = small_disk / "logs" / "1.log"
    log = JobLog(path, max_bytes=1_000_000)
    log.note("before")
    filler = small_disk / "filler"
    subprocess.run(f"head -c {DISK_MB * 2}M /dev/zero > {filler}", shell=True, check=False)
    for number in range(500):  # far more than fits in the slack of the file's last page
        log.feed(f"lost line {number}\n".encode())
    filler.unlink()
    log.note("after")
    log.close()
    lines = [line.split(" ", 1)[1] for line in path.read_text().splitlines()]
    kept = len(lines) - 3  # what fitted in the page the file already had: whole lines only
    assert lines == [
        "[vcore] before",
        *(f"lost line {number}" for number in range(kept)),
        DROPPED.format(500 - kept),
        "[vcore] after",
    ]


def test_below_disk_min_free_mb_jobs_are_refused_the_queues_pause_and_readyz_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No root needed: a threshold above any disk's free space."""
    settings = make_settings(tmp_path, monkeypatch, DISK_MIN_FREE_MB=10**12)
    with TestClient(create_app(settings)) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        refused = client.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth)
        assert refused.status_code == 507
        assert refused.json()["detail"].startswith("the data disk is full: ")
        health = client.get("/healthz")
        assert health.status_code == 200  # alive: a restart would free no space
        assert health.json()["status"] == "degraded" and health.json()["disk"]["level"] == "full"
        assert all(queue["paused"] for queue in health.json()["queues"].values())
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert any("the data disk is full" in reason for reason in ready.json()["reasons"])
        spec = client.get("/api/v1/openapi.json", headers=auth).json()
        assert "507" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_while_the_disk_is_full_the_scheduler_waits_and_then_fires_what_came_due_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No root needed: the watch's threshold is moved above any disk's free space, then back."""
    with closing(run_scene(make_settings(tmp_path, monkeypatch), FakeClock(T0))) as scenes:
        scene: Scene = next(scenes)
        created = scene.create(overlap_policy="queue")
        disk = scene.runtime.disk
        disk.min_free_mb = 10**12  # a threshold above any disk: full now
        disk.check()
        scene.tick(minutes=30)
        assert scene.runs(created["id"]) == []
        assert scene.get(created["id"])["next_run_at"] == "2026-03-01T12:01:00Z"  # no slot skipped meanwhile
        disk.min_free_mb = 0
        disk.check()
        scene.tick(seconds=1)
        scene.tick(seconds=1)
        assert len(scene.runs(created["id"])) == 1  # the missed slots, once (misfire policy run_once)


@contextmanager
def _job_filling_the_disk(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any
) -> Iterator[tuple[TestClient, dict[str, str], Path, int, int]]:
    """An app on the small disk with a job that fills it, then prints until DATA_DIR/stop exists:
    (client, auth, data folder, the job's id, its shell's pid). The filler goes after, whatever happens."""
    settings = make_settings(small_disk, monkeypatch, DISK_MIN_FREE_MB=1, **overrides)
    data = settings.DATA_DIR
    command = (
        f"sleep 0.5; head -c {DISK_MB * 2}M /dev/zero > {data}/filler; "
        f"while [ ! -e {data}/stop ]; do seq 100; sleep 0.05; done"
    )
    try:
        with TestClient(create_app(settings)) as client:
            auth = login(client, ADMIN["username"], ADMIN["password"])
            checkpoint(data / "vcore.sqlite3")
            created = create(client, auth, type="command", command=command)
            pid = wait_for(lambda: job(client, auth, created["id"])["pid"])
            yield client, auth, data, created["id"], pid
    finally:
        (data / "filler").unlink(missing_ok=True)


def test_with_job_log_write_failure_fail_a_job_whose_log_finds_no_room_is_ended_and_failed(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _job_filling_the_disk(small_disk, monkeypatch, JOB_LOG_WRITE_FAILURE="fail") as (
        client,
        auth,
        data,
        job_id,
        pid,
    ):
        wait_for(lambda: not psutil.pid_exists(pid), 30)  # ended while the disk is still full
        (data / "filler").unlink()
        ended = wait_status(client, auth, job_id, timeout=60)
    assert ended["status"] == "failed" and ended["attempt"] == 1
    assert ended["error"] == "its log could not be written: the data disk is full"


def test_by_default_a_job_whose_log_finds_no_room_runs_on_and_its_log_marks_the_hole(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _job_filling_the_disk(small_disk, monkeypatch) as (client, auth, data, job_id, pid):
        assert client.app.state.settings.JOB_LOG_WRITE_FAILURE == "continue"
        wait_for(lambda: client.get("/healthz").json()["status"] == "degraded", 30)
        time.sleep(1)  # it prints 2,000 lines a second that find no room: a kill would come within this
        assert psutil.pid_exists(pid)
        (data / "filler").unlink()
        (data / "stop").touch()
        ended = wait_status(client, auth, job_id, timeout=60)
        log = log_text(client, auth, job_id)
    assert ended["status"] == "done"
    assert "lines dropped here: the data disk was full" in log
