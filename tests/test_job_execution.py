"""How jobs run: priorities, two queues, pause and resume, retries, timeouts and kill."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login
from tests.support.jobs import app_client, blocker, create, group_members, job, log_text, wait_status
from tests.support.waiting import wait_for
from vcore_app.settings import Settings

H = dict[str, str]


def started(found: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(found["started_at"])


@pytest.mark.both_databases
def test_with_one_busy_worker_higher_priority_jobs_start_first(settings: Settings, tmp_path: Path) -> None:
    with app_client(settings, WORKERS_DEFAULT=1) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        busy = create(client, auth, type="command", command=blocker(tmp_path / "go"))
        wait_status(client, auth, busy["id"], "running")
        order = ["lowest", "low", "normal", "high", "highest"]
        ids = {
            priority: create(client, auth, type="command", command="true", priority=priority)["id"]
            for priority in order
        }
        (tmp_path / "go").touch()
        finished = {priority: wait_status(client, auth, job_id, "done") for priority, job_id in ids.items()}
    assert sorted(order, key=lambda priority: started(finished[priority])) == order[::-1]


def test_two_queues_run_at_once_and_pausing_one_leaves_the_other_running(settings: Settings, tmp_path: Path) -> None:
    with app_client(settings, WORKERS_DEFAULT=1, WORKERS_RESERVED=1) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        busy = create(client, auth, type="command", command=blocker(tmp_path / "go"))
        wait_status(client, auth, busy["id"], "running")
        reserved = create(client, auth, type="command", command="true", queue_name="reserved")
        wait_status(client, auth, reserved["id"], "done")  # while `default`'s only worker is busy

        paused = client.post("/api/v1/jobs/stop-consumer", params={"queue_name": "default"}, headers=auth)
        assert paused.status_code == 200 and paused.json()["queues"]["default"]["consuming"] is False
        assert paused.json()["queues"]["reserved"]["consuming"] is True  # the other queue goes on
        waiting = create(client, auth, type="command", command="true")
        (tmp_path / "go").touch()
        assert wait_status(client, auth, busy["id"])["status"] == "done"  # the running job finished
        other = create(client, auth, type="command", command="true", queue_name="reserved")
        wait_status(client, auth, other["id"], "done")
        assert job(client, auth, waiting["id"])["status"] == "queued"

        resumed = client.post("/api/v1/jobs/start-consumer", params={"queue_name": "default"}, headers=auth)
        assert resumed.json()["queues"]["default"]["consuming"] is True
        wait_status(client, auth, waiting["id"], "done")


@pytest.mark.both_databases
def test_a_failing_job_is_retried_after_its_delay_into_the_same_log(client: TestClient, admin_headers: H) -> None:
    created = create(
        client, admin_headers, type="command", command="echo try; exit 1", max_retries=2, retry_delay_seconds=1
    )
    finished = wait_status(client, admin_headers, created["id"], "failed", timeout=30)
    assert finished["attempt"] == 3
    log = log_text(client, admin_headers, created["id"])
    assert [line.split("==== ")[1].split(":")[0] for line in log.splitlines() if "==== attempt" in line] == [
        "attempt 1 of 3",
        "attempt 2 of 3, retry 1",
        "attempt 3 of 3, retry 2",
    ]
    assert log.count("retrying in 1 s") == 2 and log.count("Z try\n") == 3
    assert (
        datetime.fromisoformat(finished["finished_at"]) - datetime.fromisoformat(created["created_at"])
    ).total_seconds() >= 2


def test_a_job_over_its_timeout_loses_its_whole_process_group(client: TestClient, admin_headers: H) -> None:
    created = create(client, admin_headers, type="command", command="sleep 60 & sleep 60", timeout_seconds=1)
    running = wait_status(client, admin_headers, created["id"], "running")
    pgid = wait_for(lambda: job(client, admin_headers, created["id"])["pid"])
    finished = wait_status(client, admin_headers, created["id"], timeout=10)
    assert (finished["status"], finished["error"]) == ("failed", "timed out after 1 s")
    assert running["attempt"] == 1
    assert group_members(pgid) == []


def test_kill_ends_the_whole_process_group_and_cancels_within_2_s(client: TestClient, admin_headers: H) -> None:
    created = create(client, admin_headers, type="command", command="sleep 100 & sleep 100")
    pgid = wait_for(lambda: job(client, admin_headers, created["id"])["pid"])
    assert len(wait_for(lambda: len(group_members(pgid)) >= 3 and group_members(pgid))) >= 3  # sh + 2 sleeps
    killed = client.post(f"/api/v1/jobs/{created['id']}/kill", headers=admin_headers)
    assert killed.status_code == 202  # stopping: cancelled is recorded once its processes are gone
    assert killed.json()["status"] == "running" and killed.json()["stopping"] == "killed by admin"
    cancelled = wait_status(client, admin_headers, created["id"], "cancelled", timeout=2)
    assert cancelled["error"] == "killed by admin" and cancelled["stopping"] is None
    assert group_members(pgid) == []
    assert "[vcore] killed" in log_text(client, admin_headers, created["id"])


@pytest.mark.both_databases
def test_kill_of_a_queued_job_cancels_it_at_once_and_it_never_runs(settings: Settings, tmp_path: Path) -> None:
    with app_client(settings, WORKERS_DEFAULT=1) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        busy = create(client, auth, type="command", command=blocker(tmp_path / "go"))
        wait_status(client, auth, busy["id"], "running")
        waiting = create(client, auth, type="command", command=f"touch {tmp_path / 'ran'}")
        killed = client.post(f"/api/v1/jobs/{waiting['id']}/kill", headers=auth).json()
        assert killed["status"] == "cancelled"
        after = create(client, auth, type="command", command="true")
        (tmp_path / "go").touch()
        wait_status(client, auth, after["id"], "done")
        assert job(client, auth, waiting["id"])["attempt"] == 0
    assert not (tmp_path / "ran").exists()


def test_kill_of_a_finished_job_answers_200_and_changes_nothing(client: TestClient, admin_headers: H) -> None:
    created = create(client, admin_headers, type="command", command="true")
    wait_status(client, admin_headers, created["id"], "done")
    killed = client.post(f"/api/v1/jobs/{created['id']}/kill", headers=admin_headers)
    assert (killed.status_code, killed.json()["status"]) == (200, "done")
