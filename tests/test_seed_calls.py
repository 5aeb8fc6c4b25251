"""The seed's own API calls work as written: `POST /api/v1/jobs/` with `{"name", "command", "type",
"priority", "queue_name", "meta"}` for every job type, and queue control without a queue name."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.support.jobs import http_server, url_of, wait_status
from vcore_app.settings import Settings

H = dict[str, str]


def seed_job(client: TestClient, headers: H, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/jobs/", json={"priority": "normal", "queue_name": "default", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_seed_shaped_script_job_names_the_script_in_command_and_its_input_in_meta(
    client: TestClient, admin_headers: H, settings: Settings
) -> None:
    folder = str(settings.DATA_DIR)
    created = seed_job(client, admin_headers, name="disk", type="script", command="disk_usage", meta={"path": folder})
    assert (created["script"], created["input"]["path"]) == ("disk_usage", folder)
    finished = wait_status(client, admin_headers, created["id"])
    assert finished["status"] == "done", finished
    assert finished["result"]["output"]["total_bytes"] > 0


def test_a_seed_shaped_api_post_job_posts_meta_to_the_url_in_command(client: TestClient, admin_headers: H) -> None:
    with http_server() as server:
        created = seed_job(
            client, admin_headers, name="hook", type="api_post", command=url_of(server, "/hook"), meta={"hello": "seed"}
        )
        finished = wait_status(client, admin_headers, created["id"])
        assert finished["status"] == "done", finished
        assert server.requests[-1]["body"] == {"hello": "seed"}  # type: ignore[attr-defined]


def test_a_seed_shaped_command_job_runs_its_command(client: TestClient, admin_headers: H) -> None:
    created = seed_job(client, admin_headers, name="echo", type="command", command="echo seed", meta={"k": 1})
    assert wait_status(client, admin_headers, created["id"])["status"] == "done"
    assert created["meta"] == {"k": 1}
