"""Every process of a job ends with it, and "cancelled" means it has: against a real server.

The commands below leave the job's process group the ways daemons do (`setsid`, a double fork) and
ignore SIGTERM, so only SIGKILL of processes found outside the group ends them. Each carries a unique
`sleep` argument, so the test finds them by command line, wherever they went.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, job, wait_status
from tests.support.waiting import wait_for
from tests.test_job_live import messages, socket


def token() -> str:
    """A `sleep` argument no other process on the machine has."""
    return f"1000.{uuid.uuid4().int % 10**9:09d}"


def alive(marker: str) -> list[psutil.Process]:
    """The running `sleep MARKER` processes (not the shells whose command line mentions it)."""
    return [
        proc
        for proc in psutil.process_iter(["cmdline", "status"])
        if proc.info["status"] != psutil.STATUS_ZOMBIE and proc.info["cmdline"] == ["sleep", marker]
    ]


def stubborn_command(main: str, escaped: str, forked: str) -> str:
    """The job's shell ignores SIGTERM; one child leaves with setsid, one with setsid and a double fork."""
    return (
        f"trap '' TERM; "
        f"setsid sh -c 'trap \"\" TERM; exec sleep {escaped}' & "
        f"setsid sh -c '(trap \"\" TERM; exec sleep {forked}) &' ; "
        f"sleep {main}"
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningApp]:
    app = start_app(tmp_path / "data", env=app_env(JOB_KILL_GRACE_SECONDS="1.5", **ADMIN_ENV))
    yield app
    app.stop()


def test_kill_ends_escaped_processes_that_ignore_sigterm_and_says_stopping_until_they_are_gone(
    server: RunningApp,
) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    main, escaped, forked = token(), token(), token()
    created = create(server.http, auth, type="command", command=stubborn_command(main, escaped, forked))
    pgid = wait_for(lambda: job(server.http, auth, created["id"])["pid"])
    procs = {name: wait_for(lambda n=name: alive(n)) for name in (main, escaped, forked)}
    assert all(os.getpgid(proc.pid) != pgid for proc in procs[escaped] + procs[forked])  # they left the group
    # The double-forked one was orphaned: it is reparented to the server (a child subreaper), not to PID 1.
    assert procs[forked][0].ppid() == server.proc.pid
    with socket(server, auth) as ws:
        killed = server.http.post(f"/api/v1/jobs/{created['id']}/kill", headers=auth)
        assert killed.status_code == 202
        assert (killed.json()["status"], killed.json()["stopping"]) == ("running", "killed by admin")
        pushed = messages(ws, lambda m: m.get("job", {}).get("id") == created["id"] and m["job"]["stopping"])
        assert pushed[-1]["job"]["status"] == "running"
        # They ignore SIGTERM: for the grace period the job says it is stopping, and they still run.
        assert job(server.http, auth, created["id"])["stopping"] == "killed by admin" and alive(escaped)
        again = server.http.post(f"/api/v1/jobs/{created['id']}/kill", headers=auth)
        assert (again.status_code, again.json()["stopping"]) == (202, "killed by admin")
        cancelled = wait_status(server.http, auth, created["id"], "cancelled", "failed", "done", timeout=15)
        # Recorded only once none is left: checked right after the first sight of `cancelled`.
        assert [alive(name) for name in (main, escaped, forked)] == [[], [], []]
        assert (cancelled["status"], cancelled["error"]) == ("cancelled", "killed by admin")
        assert cancelled["stopping"] is None
        messages(ws, lambda m: m.get("job", {}).get("id") == created["id"] and m["job"]["status"] == "cancelled")
    after = server.http.post(f"/api/v1/jobs/{created['id']}/kill", headers=auth)
    assert (after.status_code, after.json()["status"]) == (200, "cancelled")


def test_a_timeout_shows_stopping_then_fails_once_every_process_is_gone(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    main, escaped, forked = token(), token(), token()
    created = create(
        server.http, auth, type="command", command=stubborn_command(main, escaped, forked), timeout_seconds=1
    )
    stopping = wait_for(lambda: (found := job(server.http, auth, created["id"]))["stopping"] and found)
    assert (stopping["status"], stopping["stopping"]) == ("running", "timed out after 1 s")
    failed = wait_status(server.http, auth, created["id"], "failed", "cancelled", "done", timeout=15)
    assert [alive(name) for name in (main, escaped, forked)] == [[], [], []]
    assert (failed["status"], failed["error"]) == ("failed", "timed out after 1 s")


def test_daemons_a_finished_job_left_are_ended_and_reaped(server: RunningApp) -> None:
    auth = login(server.http, ADMIN["username"], ADMIN["password"])
    marks = [token() for _ in range(6)]
    created = [
        create(server.http, auth, type="command", command=f"setsid sh -c '(exec sleep {mark}) &' ; echo started")
        for mark in marks
    ]
    for one in created:
        assert wait_status(server.http, auth, one["id"])["status"] == "done"
    assert [alive(mark) for mark in marks] == [[]] * len(marks)
    app = psutil.Process(server.proc.pid)

    def zombies() -> list[psutil.Process]:
        return [child for child in app.children() if child.status() == psutil.STATUS_ZOMBIE]

    # The orphans were ours (subreaper) and were killed: the reaper collects them, none piles up.
    wait_for(lambda: zombies() == [], timeout=10)


def test_after_a_crash_the_next_start_ends_processes_that_escaped_the_dead_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_app(data, env=app_env(**ADMIN_ENV))
    auth = login(first.http, ADMIN["username"], ADMIN["password"])
    main, escaped, forked = token(), token(), token()
    created = create(first.http, auth, type="command", command=stubborn_command(main, escaped, forked))
    for name in (main, escaped, forked):
        wait_for(lambda n=name: alive(n))
    first.stop(signal.SIGKILL)
    assert alive(escaped) and alive(forked)  # nothing ended them: the server died
    second = start_app(data, env=app_env(**ADMIN_ENV))
    try:
        # Recovery runs before the server listens: by now they are gone.
        assert [alive(name) for name in (main, escaped, forked)] == [[], [], []]
        auth = login(second.http, ADMIN["username"], ADMIN["password"])
        assert job(second.http, auth, created["id"])["error"] == "interrupted by restart"
        assert "ended the leftover processes of job" in second.output()
    finally:
        second.stop()
