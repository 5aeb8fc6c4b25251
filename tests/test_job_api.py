"""The jobs API around execution: listing, editing, status changes, rerun, idempotency, permissions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login
from tests.support.jobs import app_client, blocker, create, wait_status
from vcore_app.settings import Settings

H = dict[str, str]
SCRIPT = {"type": "script", "script": "disk_usage", "input": {"path": "/nonexistent"}}  # fails fast; fine here


@pytest.mark.both_databases
def test_the_list_is_newest_first_with_filters_paging_and_the_total(client: TestClient, admin_headers: H) -> None:
    ids = [
        create(
            client, admin_headers, type="command", command="true", name=f"job {n}", priority=priority, queue_name=queue
        )["id"]
        for n, (priority, queue) in enumerate([("low", "default"), ("high", "reserved"), ("high", "default")])
    ]
    for job_id in ids:
        wait_status(client, admin_headers, job_id, "done")
    listing = client.get("/api/v1/jobs/", headers=admin_headers).json()
    assert [item["id"] for item in listing["items"]] == ids[::-1] and listing["total"] == 3
    assert "command" not in listing["items"][0]  # the list is a summary; GET /jobs/{id} has the rest
    cases = [
        ({"priority": "high"}, ids[:0:-1]),
        ({"queue_name": "reserved"}, [ids[1]]),
        ({"search": "job 0"}, [ids[0]]),
        ({"limit": 1, "offset": 1}, [ids[1]]),
        ({"status": "failed"}, []),
        ({"type": "script"}, []),
    ]
    for params, expected in cases:
        body = client.get("/api/v1/jobs", params=params, headers=admin_headers).json()
        assert [item["id"] for item in body["items"]] == expected, params
    assert client.get("/api/v1/jobs", params={"limit": 501}, headers=admin_headers).status_code == 422
    assert client.get("/api/v1/jobs", params={"status": "nope"}, headers=admin_headers).json()["detail"][0]["loc"] == [
        "query",
        "status",
    ]


@pytest.mark.both_databases
def test_a_waiting_job_can_be_edited_held_released_and_cancelled(settings: Settings, tmp_path: Path) -> None:
    with app_client(settings, WORKERS_DEFAULT=1) as client:
        auth = login(client, ADMIN["username"], ADMIN["password"])
        busy = create(client, auth, type="command", command=blocker(tmp_path / "go"))
        wait_status(client, auth, busy["id"], "running")
        waiting = create(client, auth, type="command", command="echo old")
        edited = client.put(
            f"/api/v1/jobs/{waiting['id']}", json={"command": f"echo new > {tmp_path}/out"}, headers=auth
        )
        assert edited.status_code == 200 and edited.json()["command"].startswith("echo new")
        assert client.put(f"/api/v1/jobs/{waiting['id']}", json={"url": "http://x"}, headers=auth).status_code == 422
        status = f"/api/v1/jobs/{waiting['id']}/status"
        assert client.put(status, json={"status": "pending"}, headers=auth).json()["status"] == "pending"
        assert client.put(status, json={"status": "done"}, headers=auth).status_code == 409
        assert client.put(status, json={"status": "queued"}, headers=auth).json()["status"] == "queued"
        (tmp_path / "go").touch()
        wait_status(client, auth, waiting["id"], "done")
    assert (tmp_path / "out").read_text() == "new\n"


@pytest.mark.both_databases
def test_a_failed_job_can_be_queued_again_and_rerun_as_a_new_job(client: TestClient, admin_headers: H) -> None:
    failed = create(client, admin_headers, type="command", command="exit 1")
    wait_status(client, admin_headers, failed["id"], "failed")
    again = client.put(f"/api/v1/jobs/{failed['id']}/status", json={"status": "queued"}, headers=admin_headers)
    assert again.json()["status"] == "queued" and again.json()["error"] is None
    assert wait_status(client, admin_headers, failed["id"], "failed")["attempt"] == 1
    rerun = client.post(f"/api/v1/jobs/{failed['id']}/rerun", headers=admin_headers)
    assert rerun.status_code == 201 and rerun.json()["id"] != failed["id"]
    assert rerun.json()["command"] == "exit 1"


@pytest.mark.both_databases
def test_an_idempotency_key_creates_one_job(client: TestClient, admin_headers: H) -> None:
    headers = {**admin_headers, "Idempotency-Key": "nightly-2026-01-01"}
    first = client.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=headers)
    second = client.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert client.get("/api/v1/jobs", headers=admin_headers).json()["total"] == 1


def test_a_regular_user_runs_scripts_but_not_commands_and_sees_only_its_own_jobs(
    client: TestClient, admin_headers: H, make_user: Callable[..., H]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    response = client.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=alice)
    assert response.status_code == 403
    mine = create(client, alice, **SCRIPT)
    theirs = create(client, bob, **SCRIPT)
    admins = create(client, admin_headers, type="command", command="sleep 30")
    assert [item["id"] for item in client.get("/api/v1/jobs", headers=alice).json()["items"]] == [mine["id"]]
    assert client.get("/api/v1/jobs", headers=admin_headers).json()["total"] == 3
    for other in (theirs, admins):
        assert client.get(f"/api/v1/jobs/{other['id']}", headers=alice).status_code == 404
        assert client.post(f"/api/v1/jobs/{other['id']}/kill", headers=alice).status_code == 404
        assert client.delete(f"/api/v1/jobs/{other['id']}", headers=alice).status_code == 404
        assert client.get(f"/api/v1/jobs/{other['id']}/log", headers=alice).status_code == 404
    wait_status(client, alice, mine["id"])
    assert client.delete(f"/api/v1/jobs/{mine['id']}", headers=alice).status_code == 204
    client.post(f"/api/v1/jobs/{admins['id']}/kill", headers=admin_headers)


@pytest.mark.parametrize("path", ["start-consumer", "stop-consumer"])
def test_queue_control_needs_a_superuser(client: TestClient, make_user: Callable[..., H], path: str) -> None:
    response = client.post(f"/api/v1/jobs/{path}", params={"queue_name": "default"}, headers=make_user())
    assert response.status_code == 403


def test_every_jobs_path_needs_credentials(client: TestClient) -> None:
    for method, path in [
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/1/log"),
        ("POST", "/api/v1/jobs/1/kill"),
        ("POST", "/api/v1/jobs/push-jobs-to-websocket"),
    ]:
        assert client.request(method, path).status_code == 401, path
