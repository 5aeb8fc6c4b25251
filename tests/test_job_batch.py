"""`POST /api/v1/jobs/batch`: many jobs in one request, all or none, each queue fed in one write,
repeatable with an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.waiting import wait_for

URL = "/api/v1/jobs/batch"


def total(client: TestClient, headers: dict[str, str]) -> int:
    response = client.get("/api/v1/jobs", params={"limit": 1}, headers=headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["total"]
    return count


def test_a_batch_of_three_hundred_jobs_all_run_once_in_the_order_given(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    specs = [{"type": "command", "command": f"echo {n}", "name": f"batch-{n}"} for n in range(300)]
    specs[7] = {**specs[7], "queue_name": "reserved", "priority": "high"}
    response = client.post(URL, json={"jobs": specs}, headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["ids"]) == 300 and len(set(body["ids"])) == 300
    assert [item["name"] for item in body["items"]] == [spec["name"] for spec in specs]
    assert body["items"][7]["queue_name"] == "reserved"

    def all_done() -> list[dict[str, Any]] | None:
        response = client.get("/api/v1/jobs", params={"limit": 500}, headers=admin_headers)
        jobs = response.json()["items"]
        return jobs if len(jobs) == 300 and all(job["status"] == "done" for job in jobs) else None

    jobs = wait_for(all_done, timeout=120)
    assert {job["attempt"] for job in jobs} == {1}  # each ran once


@pytest.mark.both_databases
def test_one_bad_job_names_its_index_and_nothing_is_created(client: TestClient, admin_headers: dict[str, str]) -> None:
    specs: list[dict[str, Any]] = [{"type": "command", "command": "true"} for _ in range(5)]
    specs[3] = {"type": "command"}
    response = client.post(URL, json={"jobs": specs}, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "jobs", 3, "command"]
    specs[3] = {"type": "script", "script": "no-such-script"}
    response = client.post(URL, json={"jobs": specs}, headers=admin_headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "jobs", 3, "script"]
    assert total(client, admin_headers) == 0


def test_the_size_of_a_batch_is_bounded(client: TestClient, admin_headers: dict[str, str]) -> None:
    for jobs in ([], [{"type": "command", "command": "true"}] * 1001):
        response = client.post(URL, json={"jobs": jobs}, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "jobs"]
    assert total(client, admin_headers) == 0


def test_a_regular_user_cannot_slip_a_command_job_into_a_batch(
    client: TestClient, make_user: Callable[..., dict[str, str]]
) -> None:
    alice = make_user("alice")
    specs = [
        {"type": "script", "script": "disk_usage", "input": {"path": "/"}},
        {"type": "command", "command": "id"},
    ]
    response = client.post(URL, json={"jobs": specs}, headers=alice)
    assert response.status_code == 403, response.text
    assert total(client, alice) == 0


@pytest.mark.both_databases
def test_a_repeated_batch_with_its_key_returns_the_same_jobs_and_another_user_gets_409(
    client: TestClient, admin_headers: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    specs = [{"type": "command", "command": "true"} for _ in range(4)]
    key = {"Idempotency-Key": "nightly-import-2026-11-27"}
    first = client.post(URL, json={"jobs": specs}, headers={**admin_headers, **key})
    assert first.status_code == 201, first.text
    again = client.post(URL, json={"jobs": specs}, headers={**admin_headers, **key})
    assert again.status_code == 200 and again.json()["ids"] == first.json()["ids"]
    assert total(client, admin_headers) == 4
    alice = make_user("alice")
    scripts = [{"type": "script", "script": "disk_usage", "input": {"path": "/"}}]
    stolen = client.post(URL, json={"jobs": scripts}, headers={**alice, **key})
    assert stolen.status_code == 409, stolen.text
    too_long = client.post(URL, json={"jobs": specs}, headers={**admin_headers, "Idempotency-Key": "k" * 121})
    assert too_long.status_code == 422
    assert total(client, admin_headers) == 4
