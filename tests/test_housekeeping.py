"""Housekeeping: retention removes exactly what it should at the boundaries, on 100,000 jobs, while the
API keeps answering; the log size cap; the audit retention; the checkpoint; the bulk delete API."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from tests.support.waiting import wait_for
from vcore_app import db, housekeeping
from vcore_app.app import create_app
from vcore_app.jobs.logs import log_path
from vcore_app.models import AuditEvent, Job
from vcore_app.runtime import Runtime
from vcore_app.settings import Settings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _row(job_id: int, status: str, finished_at: datetime | None, created_at: datetime | None = None) -> dict[str, Any]:
    created = created_at or (finished_at - timedelta(minutes=1) if finished_at else NOW)
    return {
        "id": job_id,
        "name": f"job {job_id}",
        "type": "command",
        "priority": "normal",
        "queue_name": "default",
        "status": status,
        "attempt": 1,
        "max_retries": 0,
        "retry_delay_seconds": 0,
        "command": "true",
        "created_at": created,
        "finished_at": finished_at,
    }


def _insert(runtime: Runtime, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 20_000):
        with db.session(runtime.engine) as session:
            session.execute(insert(Job), rows[start : start + 20_000])


def _ids(runtime: Runtime) -> set[int]:
    with db.session(runtime.engine, readonly=True) as session:
        return set(session.execute(select(Job.id)).scalars())


@pytest.fixture
def fixed_app(settings: Settings) -> Iterator[tuple[Runtime, TestClient]]:
    """An app whose runtime clock stands at NOW, retention 90 days and at most 50,000 jobs; the
    queues have no workers, so nothing but the test changes the jobs."""
    tuned = settings.model_copy(
        update={"JOB_RETENTION_DAYS": 90, "JOB_RETENTION_MAX_ROWS": 50_000, "WORKERS_DEFAULT": 0, "WORKERS_RESERVED": 0}
    )
    runtime = Runtime(tuned, clock=lambda: NOW)
    runtime.start()
    try:
        with TestClient(create_app(tuned, runtime)) as client:
            wait_for(lambda: runtime.housekeeping.last is not None)  # the run at start, on an empty table
            yield runtime, client
    finally:
        runtime.stop()


def test_retention_removes_exactly_what_it_should_on_100000_jobs_while_the_api_answers(
    fixed_app: tuple[Runtime, TestClient],
) -> None:
    runtime, client = fixed_app
    cutoff = NOW - timedelta(days=90)
    rows = [
        _row(i, ("done", "failed", "cancelled")[i % 3], cutoff - timedelta(days=1, seconds=i)) for i in range(1, 40_001)
    ]  # old: removed by age
    rows += [
        _row(40_001, "done", cutoff - timedelta(microseconds=1)),  # just before: removed
        _row(40_002, "failed", cutoff),
    ]  # at the cutoff: kept
    rows += [
        _row(i, ("queued", "pending", "running")[i % 3], None, NOW - timedelta(days=200)) for i in range(40_003, 41_003)
    ]  # active and old: kept
    rows += [_row(i, "done", NOW - timedelta(hours=1)) for i in range(41_003, 100_001)]  # recent
    _insert(runtime, rows)
    assert len(_ids(runtime)) == 100_000
    logs = runtime.settings.job_logs_dir
    for job_id in (1, 40_002, 40_003, 99_999):
        log_path(logs, job_id).write_text("a line\n")
    orphan = log_path(logs, 123_456)
    orphan.write_text("left over by a crash\n")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    with db.session(runtime.engine) as session:
        session.add(AuditEvent(actor="x", action="old", at=NOW - timedelta(days=366)))
        session.add(AuditEvent(actor="x", action="recent", at=NOW - timedelta(days=364)))
    headers = login(client, ADMIN["username"], ADMIN["password"])

    answered: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            answered.append(client.get("/api/v1/jobs", params={"limit": 50}, headers=headers).status_code)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        run = runtime.housekeeping.run_once()
    finally:
        done.set()
        poller.join()

    # 40,001 by age; then 9,999 more for the 50,000 cap: 40,002, then (the active ones skipped) 41,003-51,000
    expected = set(range(40_003, 41_003)) | set(range(51_001, 100_001))
    assert _ids(runtime) == expected
    assert run.jobs == 50_000
    assert not log_path(logs, 1).exists() and not log_path(logs, 40_002).exists()
    assert log_path(logs, 40_003).exists() and log_path(logs, 99_999).exists()
    assert not orphan.exists() and run.logs == 1
    assert run.audit == 1
    with db.session(runtime.engine, readonly=True) as session:
        actions = set(session.execute(select(AuditEvent.action)).scalars())
    assert "old" not in actions and "recent" in actions and "housekeeping.run" in actions
    assert answered and set(answered) == {200}, answered[:20]
    print(
        f"\nGET /api/v1/jobs answered {len(answered)} times during housekeeping of 100,000 jobs "
        "(p99: bench/housekeeping.py)"
    )
    # a second run finds nothing more to do
    assert runtime.housekeeping.run_once().jobs == 0


def test_the_log_cap_removes_the_oldest_finished_jobs_logs_first(fixed_app: tuple[Runtime, TestClient]) -> None:
    runtime, _client = fixed_app
    runtime.settings.JOB_LOGS_MAX_TOTAL_MB = 1
    _insert(
        runtime,
        [_row(i, "done", NOW - timedelta(hours=i)) for i in range(1, 6)]
        + [_row(6, "running", None, NOW - timedelta(days=3))],
    )
    logs = runtime.settings.job_logs_dir
    for job_id in range(1, 7):
        log_path(logs, job_id).write_bytes(b"x" * 300_000)
    run = runtime.housekeeping.run_once()
    # 1.8 MB in 6 logs: the running job's stays; the oldest finished ones (ids 1, 2, 3) go until <= 1 MiB
    assert [job_id for job_id in range(1, 7) if log_path(logs, job_id).exists()] == [4, 5, 6]
    assert (run.logs, run.log_bytes) == (3, 900_000)
    assert _ids(runtime) == set(range(1, 7))  # the jobs stay, without their logs


def test_mirror_files_of_worker_node_logs_go_after_a_day_untouched(fixed_app: tuple[Runtime, TestClient]) -> None:
    """issue 20: a web node's copies of logs read from the database are a cache: made again when read."""
    runtime, _client = fixed_app
    mirror = runtime.settings.log_mirror_dir
    mirror.mkdir(parents=True)
    stale, fresh = log_path(mirror, 1), log_path(mirror, 2)
    for path in (stale, fresh):
        path.write_text("a line\n")
    day_ago = time.time() - 86_400 - 60
    os.utime(stale, (day_ago, day_ago))
    runtime.housekeeping.run_once()
    assert not stale.exists() and fresh.exists()


def test_housekeeping_truncates_the_wal_and_vacuums_only_when_worth_it(
    fixed_app: tuple[Runtime, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, _client = fixed_app
    _insert(runtime, [_row(i, "done", NOW - timedelta(days=100)) for i in range(1, 20_001)])
    database = Path(runtime.settings.DB_URL.removeprefix("sqlite:///"))
    size_before = database.stat().st_size + Path(f"{database}-wal").stat().st_size
    run = runtime.housekeeping.run_once()
    assert run.jobs == 20_000 and run.checkpointed
    assert not run.vacuumed  # a few MB free: below VACUUM_MIN_BYTES
    assert Path(f"{database}-wal").stat().st_size == 0
    _insert(runtime, [_row(i, "done", NOW - timedelta(days=100)) for i in range(20_001, 40_001)])
    monkeypatch.setattr(housekeeping, "VACUUM_MIN_BYTES", 1024)
    run = runtime.housekeeping.run_once()
    assert run.vacuumed
    assert database.stat().st_size < size_before / 2
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_dashboard_and_the_api_show_storage_and_the_last_run(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    runtime = client.app.state.runtime
    wait_for(lambda: runtime.housekeeping.last is not None)
    wait_status(client, admin_headers, create(client, admin_headers, type="command", command="echo hello")["id"])
    report = client.get("/api/v1/housekeeping", headers=admin_headers).json()
    assert report["logs_bytes"] > 0 and report["log_files"] == 1 and report["jobs"] == 1
    assert report["databases_bytes"]["app"] > 0 and report["oldest_job_at"]
    assert report["last_run"]["summary"].startswith("removed 0 jobs")
    assert client.post("/api/v1/housekeeping", headers=admin_headers).status_code == 202


# -- bulk delete -----------------------------------------------------------------------------------


@pytest.fixture
def finished(
    client: TestClient, admin_headers: dict[str, str], make_user: Callable[..., dict[str, str]], tmp_path: Path
) -> tuple[dict[str, str], list[int], list[int]]:
    """Alice's headers, her two finished jobs (done, failed) and the admin's two (done, failed)."""
    alice = make_user("alice")
    mine = [
        create(client, alice, type="script", script="disk_usage", input={"path": str(path)})["id"]
        for path in (tmp_path, tmp_path / "missing")
    ]
    theirs = [create(client, admin_headers, type="command", command=command)["id"] for command in ("true", "exit 1")]
    for job_id in mine + theirs:
        wait_status(client, admin_headers, job_id)
    return alice, mine, theirs


def _remaining(client: TestClient, headers: dict[str, str]) -> set[int]:
    return {job["id"] for job in client.get("/api/v1/jobs", headers=headers).json()["items"]}


def test_bulk_delete_by_status_and_age(
    client: TestClient, admin_headers: dict[str, str], finished: tuple[dict[str, str], list[int], list[int]]
) -> None:
    alice, alice_ids, admin_ids = finished
    # a regular user removes only its own jobs
    response = client.delete("/api/v1/jobs", params={"older_than": "2000-01-01T00:00:00"}, headers=alice)
    assert response.json() == {"deleted": 0}
    statuses = {
        job_id: client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers).json()["status"]
        for job_id in alice_ids + admin_ids
    }
    response = client.delete("/api/v1/jobs", params={"status": "failed", "older_than": "0m"}, headers=alice)
    assert response.json() == {"deleted": sum(statuses[i] == "failed" for i in alice_ids)}
    assert all(i in _remaining(client, admin_headers) for i in admin_ids)
    response = client.delete("/api/v1/jobs", params={"older_than": "0m"}, headers=admin_headers)
    assert response.status_code == 200
    assert _remaining(client, admin_headers) == set()
    assert not any(log_path(client.app.state.settings.job_logs_dir, i).exists() for i in admin_ids)


def test_bulk_delete_keeps_active_jobs(client: TestClient, admin_headers: dict[str, str]) -> None:
    client.post("/api/v1/jobs/stop-consumer?queue_name=default", headers=admin_headers)
    waiting = create(client, admin_headers, type="command", command="true")
    assert client.delete("/api/v1/jobs", params={"older_than": "0m"}, headers=admin_headers).json() == {"deleted": 0}
    assert client.get(f"/api/v1/jobs/{waiting['id']}", headers=admin_headers).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "older_than"),
        ({"older_than": "yesterday"}, "older_than"),
        ({"status": "running"}, "status"),
        ({"status": "sleeping"}, "status"),
    ],
)
def test_bulk_delete_refuses_bad_filters_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = client.delete("/api/v1/jobs", params=params, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_the_old_log_retention_setting_is_gone_and_one_housekeeping_thread_runs(client: TestClient) -> None:
    names = [thread.name for thread in threading.enumerate()]
    assert names.count("housekeeping") == 1 and "job-log-retention" not in names
    assert "JOB_LOG_RETENTION_DAYS" not in Settings.model_fields
