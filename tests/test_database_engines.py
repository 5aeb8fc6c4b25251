"""What must not depend on the engine under the ledger (issue 20): each test runs on SQLite and on a real
PostgreSQL. Accounts ignore case, times come back as the same UTC moment, and the guarded transition
of a job has one winner however many threads race for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from tests.support.auth import login
from tests.support.jobs import create, job
from tests.support.waiting import wait_for
from vcore_app import db
from vcore_app.jobs import service
from vcore_app.models import Job, JobScheduler, JobStatus, User, utcnow
from vcore_app.schedulers.thread import fire_due

pytestmark = pytest.mark.both_databases  # conftest.py: each test on SQLite and on PostgreSQL

RACERS = 8


def test_alice_and_ALICE_are_one_account(client: TestClient, admin_headers: dict[str, str]) -> None:
    alice = {"username": "Alice", "email": "Alice@Example.com", "password": "alice-password-1"}
    assert client.post("/api/v1/users/", json=alice, headers=admin_headers).status_code == 201
    for clash in (
        {"username": "alice", "email": "other@example.com"},
        {"username": "bob", "email": "alice@EXAMPLE.com"},
    ):
        answer = client.post("/api/v1/users/", json={**alice, **clash}, headers=admin_headers)
        assert answer.status_code == 409, answer.text
    for spelling in ("alice", "ALICE", "Alice"):
        me = client.get("/api/v1/users/me", headers=login(client, spelling, alice["password"])).json()
        assert me["username"] == "Alice"


def test_a_time_comes_back_as_the_same_moment_in_utc(client: TestClient) -> None:
    engine = client.app.state.runtime.engine
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # just after the DST change
    with db.session(engine) as session:
        row = JobScheduler(name="s", trigger_type="repeat", repeat_every_seconds=60, next_run_at=berlin)
        session.add(row)
        session.flush()
        stored = row.id
    with db.session(engine, readonly=True) as session:
        back = session.get(JobScheduler, stored)
        due = session.exec(select(JobScheduler).where(col(JobScheduler.next_run_at) <= berlin)).all()
        later = session.exec(select(JobScheduler).where(col(JobScheduler.next_run_at) > berlin)).all()
    assert back is not None and back.next_run_at == berlin
    assert back.next_run_at.utcoffset() == UTC.utcoffset(None) and back.next_run_at.hour == 1
    assert [found.id for found in due] == [stored] and later == []


def test_a_retry_waits_until_its_run_after_in_utc(client: TestClient, admin_headers: dict[str, str]) -> None:
    failing = create(client, admin_headers, type="command", command="exit 3", max_retries=1, retry_delay_seconds=3600)

    def waiting_for_retry() -> dict[str, Any] | None:
        found = job(client, admin_headers, failing["id"])
        return found if found["run_after"] else None

    retry = wait_for(waiting_for_retry)
    run_after = datetime.fromisoformat(retry["run_after"].replace("Z", "+00:00"))
    assert run_after.utcoffset() is not None
    assert 3500 < (run_after - datetime.now(UTC)).total_seconds() <= 3600
    assert retry["status"] == "queued" and retry["attempt"] == 1


def _race(count: int, attempt: Callable[[int], object]) -> list[int]:
    """`attempt(i)` in `count` threads released at once; the indexes of those that got something back."""
    start = threading.Barrier(count)
    won: list[int] = []

    def racer(index: int) -> None:
        start.wait()
        if attempt(index) is not None:
            won.append(index)

    threads = [threading.Thread(target=racer, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won


def test_one_of_many_threads_claims_a_job_and_one_finishes_it(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    runtime = client.app.state.runtime
    client.post("/api/v1/jobs/stop-consumer?queue_name=default", headers=admin_headers).raise_for_status()
    job_id = create(client, admin_headers, type="command", command="true")["id"]

    def move(to: JobStatus, expect: JobStatus, **values: Any) -> Job | None:
        with db.session(runtime.engine) as session:
            return service.transition(
                session=session, wiring=runtime.wiring, job_id=job_id, to=to, expect=[expect], **values
            )

    claims = _race(RACERS, lambda _index: move(JobStatus.RUNNING, JobStatus.QUEUED, attempt=Job.attempt + 1))
    assert len(claims) == 1
    endings = (JobStatus.DONE, JobStatus.FAILED)
    finishes = _race(RACERS, lambda index: move(endings[index % 2], JobStatus.RUNNING))
    assert len(finishes) == 1
    final = job(client, admin_headers, job_id)
    assert final["status"] == endings[finishes[0] % 2] and final["attempt"] == 1


def test_ticks_racing_for_a_due_slot_fire_it_once(client: TestClient, admin_headers: dict[str, str]) -> None:
    runtime = client.app.state.runtime
    template = {"type": "command", "command": "true"}
    body = {"name": "s", "trigger_type": "repeat", "repeat_every_seconds": 3600, "job_template": template}
    created = client.post("/api/v1/job-schedulers", json=body, headers=admin_headers).json()
    now = utcnow()
    with db.session(runtime.engine) as session:
        row = session.get(JobScheduler, created["id"])
        assert row is not None
        row.next_run_at = now  # due now, for every racer at once
        session.add(row)
    _race(RACERS, lambda _index: fire_due(engine=runtime.engine, wiring=runtime.wiring, env_name="", now=now))
    with db.session(runtime.engine, readonly=True) as session:
        fired = session.exec(select(Job).where(col(Job.scheduler_id) == created["id"])).all()
    assert len(fired) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/jobs", {"type": "command", "command": "true"}),
        ("/api/v1/jobs/batch", {"jobs": [{"type": "command", "command": "true"}] * 3}),
    ],
)
def test_requests_racing_with_one_idempotency_key_create_once(
    client: TestClient, admin_headers: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    answers: list[tuple[int, str]] = []
    headers = {**admin_headers, "idempotency-key": "nightly-2026-03-01"}

    def post(_index: int) -> None:
        response = client.post(path, json=body, headers=headers)
        created = response.json()
        answers.append((response.status_code, str(created.get("ids", created.get("id")))))

    _race(RACERS, post)
    assert sorted(status for status, _ in answers) == [200] * (RACERS - 1) + [201], answers
    assert len({ids for _, ids in answers}) == 1


def test_accounts_racing_for_one_username_make_one_and_409s(client: TestClient, admin_headers: dict[str, str]) -> None:
    statuses: list[int] = []

    def register(index: int) -> None:
        carol = {"username": "Carol", "email": f"carol{index}@example.com", "password": "carol-password-1"}
        statuses.append(client.post("/api/v1/users/", json=carol, headers=admin_headers).status_code)

    _race(RACERS, register)
    assert sorted(statuses) == [201] + [409] * (RACERS - 1)


def test_two_superusers_demoting_each_other_at_once_leave_one(
    client: TestClient, admin_headers: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    root_headers = make_user("root", superuser=True)
    ids = [client.get("/api/v1/users/me", headers=headers).json()["id"] for headers in (admin_headers, root_headers)]
    moves = ((admin_headers, ids[1]), (root_headers, ids[0]))  # each demotes the other
    statuses: list[int] = []

    def demote(index: int) -> None:
        headers, other = moves[index]
        statuses.append(client.put(f"/api/v1/users/{other}", json={"is_superuser": False}, headers=headers).status_code)

    _race(2, demote)
    assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (403, 409)  # 403: demoted before it was let in
    with db.session(client.app.state.runtime.engine, readonly=True) as session:
        left = session.exec(select(User).where(col(User.is_superuser), col(User.is_active))).all()
    assert len(left) == 1
