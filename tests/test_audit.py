"""The audit log: a row for every action the issue lists, with the right actor, address and outcome,
and never a secret in any row; its filters and its superuser-only API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login_tokens
from tests.support.jobs import create, wait_status
from tests.support.waiting import wait_for
from vcore_app.settings import Settings

ADDRESS = "testclient"  # the client address TestClient gives every request


def events(client: TestClient, headers: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"limit": 500, **filters}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def one(client: TestClient, headers: dict[str, str], action: str, **match: Any) -> dict[str, Any]:
    """The newest row of `action` whose fields contain `match` (targets: a substring)."""

    def found() -> dict[str, Any] | None:
        for row in events(client, headers, action=action):
            if row["action"] == action and all(str(v) in str(row[k]) for k, v in match.items()):
                return row
        return None

    return wait_for(found, timeout=60)


def test_every_listed_action_leaves_a_row_with_its_actor_and_no_secret(
    client: TestClient, admin_headers: dict[str, str], settings: Settings, make_user: Callable[..., dict[str, str]]
) -> None:
    secrets: list[str] = [
        ADMIN["password"],
        settings.JWT_ACCESS_SECRET_KEY.get_secret_value(),
        settings.JWT_REFRESH_SECRET_KEY.get_secret_value(),
    ]
    h = admin_headers
    secrets.append(h["Authorization"].split()[1])

    # logins: success and failure, with the address
    assert (
        client.post(
            "/api/v1/login/access-token", data={"username": "admin", "password": "wrong-password-9"}
        ).status_code
        == 401
    )
    secrets.append("wrong-password-9")
    failed = one(client, h, "login", outcome="failed")
    assert (failed["actor"], failed["address"]) == ("admin", ADDRESS)
    tokens = login_tokens(client, ADMIN["username"], ADMIN["password"])
    secrets += [tokens["access_token"], tokens["refresh_token"]]
    assert one(client, h, "login", outcome="ok")["address"] == ADDRESS

    # users: created, changed, role, deactivated, deleted
    user = client.post(
        "/api/v1/users", headers=h, json={"username": "bob", "email": "bob@example.com", "password": "bob-password-1"}
    ).json()
    secrets.append("bob-password-1")
    assert one(client, h, "user.create", target="bob")["actor"] == "admin"
    client.put(f"/api/v1/users/{user['id']}", headers=h, json={"full_name": "Bob B", "password": "bob-password-2"})
    secrets.append("bob-password-2")
    assert one(client, h, "user.update", target="bob")["target"].endswith("full_name, password")
    client.put(f"/api/v1/users/{user['id']}", headers=h, json={"is_superuser": True})
    assert "superuser granted" in one(client, h, "user.role", target="bob")["target"]
    client.put(f"/api/v1/users/{user['id']}", headers=h, json={"is_active": False})
    one(client, h, "user.deactivate", target="bob")
    client.delete(f"/api/v1/users/{user['id']}", headers=h)
    assert one(client, h, "user.delete", target="bob")["actor"] == "admin"

    # API keys: created and revoked, by their owner; the key itself never
    alice = make_user("alice")
    secrets += ["alice-password-1", alice["Authorization"].split()[1]]
    key = client.post("/api/v1/users/me/api-keys", headers=alice, json={"name": "backup script"}).json()
    secrets.append(key["key"])
    assert one(client, h, "api_key.create", target="backup script")["actor"] == "alice"
    client.delete(f"/api/v1/users/me/api-keys/{key['id']}", headers=alice)
    assert one(client, h, "api_key.revoke", target="backup script")["actor"] == "alice"

    # jobs: created, killed, deleted, re-run, status changed
    assert client.post("/api/v1/jobs/stop-consumer?queue_name=default", headers=h).status_code == 200
    job = create(client, h, type="command", command="true", name="nightly")
    assert one(client, h, "job.create", target="nightly")["actor"] == "admin"
    client.post(f"/api/v1/jobs/{job['id']}/kill", headers=h)
    one(client, h, "job.kill", target=f"job {job['id']}")
    rerun = client.post(f"/api/v1/jobs/{job['id']}/rerun", headers=h).json()
    assert one(client, h, "job.rerun", target=f"from job {job['id']}")["target"].startswith(f"job {rerun['id']}")
    client.put(f"/api/v1/jobs/{rerun['id']}/status", headers=h, json={"status": "cancelled"})
    one(client, h, "job.status", target=f"job {rerun['id']}")
    client.delete(f"/api/v1/jobs/{job['id']}", headers=h)
    one(client, h, "job.delete", target=f"job {job['id']}")
    assert client.post("/api/v1/jobs/start-consumer?queue_name=default", headers=h).status_code == 200

    # schedulers: created, changed, toggled, deleted; the jobs they create are theirs
    body = {
        "name": "every second",
        "trigger_type": "repeat",
        "repeat_every_seconds": 1,
        "job_template": {"type": "command", "command": "true"},
    }
    scheduler = client.post("/api/v1/job-schedulers", headers=h, json=body).json()
    one(client, h, "scheduler.create", target="every second")
    client.put(f"/api/v1/job-schedulers/{scheduler['id']}", headers=h, json={**body, "name": "renamed"})
    one(client, h, "scheduler.update", target="renamed")
    client.post(f"/api/v1/job-schedulers/{scheduler['id']}/toggle", headers=h)
    one(client, h, "scheduler.disable", target="renamed")
    client.delete(f"/api/v1/job-schedulers/{scheduler['id']}", headers=h)
    assert one(client, h, "scheduler.delete", target="renamed")["actor"] == "admin"

    # backups (restores: tests/test_backups.py), by a person and by a scheduler; housekeeping
    archive = client.post("/api/v1/backups", headers=h).json()
    assert one(client, h, "backup.create", target=archive["name"])["actor"] == "admin"
    nightly = client.post(
        "/api/v1/job-schedulers",
        headers=h,
        json={
            "name": "nightly backup",
            "trigger_type": "repeat",
            "repeat_every_seconds": 1,
            "job_template": {"type": "script", "script": "backup"},
        },
    ).json()
    by_scheduler = one(client, h, "backup.create", actor=f"scheduler {nightly['id']}")
    assert by_scheduler["address"] is None  # the scheduler acts on no request
    client.post(f"/api/v1/job-schedulers/{nightly['id']}/toggle", headers=h)
    assert one(client, h, "housekeeping.run")["actor"] == "system"

    # notification channels: added, changed, disabled, deleted; their URL and secret never
    channel_secret = "hook-signing-secret-0123456789"
    secrets.append(channel_secret)
    hook = {"name": "ops-hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": channel_secret}
    channel = client.post("/api/v1/notifications/channels", headers=h, json=hook).json()
    assert one(client, h, "channel.create", target="ops-hook")["actor"] == "admin"
    client.put(f"/api/v1/notifications/channels/{channel['id']}", headers=h, json={**hook, "enabled": False})
    one(client, h, "channel.update", target="ops-hook")
    client.delete(f"/api/v1/notifications/channels/{channel['id']}", headers=h)
    one(client, h, "channel.delete", target="ops-hook")
    assert "127.0.0.1:9" not in json.dumps(events(client, h, action="channel"))

    # plugins: a reload of the plugins folder
    assert client.post("/api/v1/plugins/reload", headers=h).status_code == 200
    assert one(client, h, "plugins.reload")["actor"] == "admin"

    # refused: a regular user trying a superuser's action
    assert (
        client.post(
            "/api/v1/users",
            headers=alice,
            json={"username": "eve", "email": "e@example.com", "password": "eve-password-1"},
        ).status_code
        == 403
    )
    denied = one(client, h, "denied", target="POST /api/v1/users")
    assert (denied["actor"], denied["outcome"], denied["address"]) == ("alice", "denied", ADDRESS)

    everything = json.dumps(events(client, h))
    leaked = [secret[:12] + "..." for secret in secrets if secret in everything]
    assert not leaked, f"secrets in the audit log: {leaked}"


def test_the_audit_api_filters_and_is_for_superusers(
    client: TestClient, admin_headers: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    alice = make_user("alice")
    client.post("/api/v1/login/access-token", data={"username": "alice", "password": "nope-nope-1"})
    assert client.get("/api/v1/audit", headers=alice).status_code == 403
    rows = events(client, admin_headers, actor="alice", action="login")
    assert rows and {row["actor"] for row in rows} == {"alice"}
    assert {row["outcome"] for row in events(client, admin_headers, actor="alice", outcome="failed")} == {"failed"}
    assert events(client, admin_headers, action="user.")  # a prefix: user.create of alice
    bad = client.get("/api/v1/audit", params={"outcome": "maybe"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "outcome"]


def test_a_job_created_through_the_page_is_recorded_for_the_browser_user(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    from tests.support.pages import log_in_browser, submit

    browser = log_in_browser(client, ADMIN["username"], ADMIN["password"])
    response = submit(browser, "/jobs/new", {"type": "command", "command": "true", "name": "from the page"})
    assert response.status_code in (200, 303), response.text
    row = one(client, admin_headers, "job.create", target="from the page")
    assert (row["actor"], row["address"]) == ("admin", ADDRESS)
    wait_status(client, admin_headers, int(row["target"].split()[1]))
