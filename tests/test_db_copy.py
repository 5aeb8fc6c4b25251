"""`vcore-app db copy --to postgresql://...` moves a SQLite installation onto PostgreSQL (issue 20), run
as a user runs it: the CLI as a child process, then the app on the copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.cli import run_cli
from tests.support.jobs import create, wait_status
from tests.support.postgres import PostgresServer
from vcore_app.app import create_app

ALICE = {"username": "alice", "email": "alice@example.com", "password": "alice-password-1"}


def _fill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A SQLite installation with a second user, a finished job and a scheduler; their ids."""
    with TestClient(create_app(make_settings(tmp_path, monkeypatch))) as client:
        admin = login(client, ADMIN["username"], ADMIN["password"])
        client.post("/api/v1/users/", json=ALICE, headers=admin).raise_for_status()
        done = wait_status(client, admin, create(client, admin, type="command", command="echo copied")["id"])
        scheduler = client.post(
            "/api/v1/job-schedulers",
            json={
                "name": "nightly",
                "trigger_type": "cron",
                "cron": "0 3 * * *",
                "job_template": {"type": "command", "command": "true"},
            },
            headers=admin,
        )
        scheduler.raise_for_status()
        return {"job": done["id"], "scheduler": scheduler.json()["id"]}


def test_a_sqlite_installation_moves_to_postgresql_and_works_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> None:
    ids = _fill(tmp_path, monkeypatch)
    target = postgres_server.create_database(migrated=False)
    copied = run_cli("db", "copy", "--data-dir", str(tmp_path / "data"), "--to", target.replace("+psycopg", ""))
    assert copied.returncode == 0, copied.stderr
    rows = {line.split()[0]: int(line.split()[1]) for line in copied.stdout.splitlines() if line.endswith(" rows")}
    assert (rows["user"], rows["job"], rows["job_scheduler"]) == (2, 1, 1)
    assert f"into postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/" in copied.stdout

    on_postgres = make_settings(tmp_path, monkeypatch, DB_URL=target)
    with TestClient(create_app(on_postgres)) as client:
        assert login(client, "Alice", ALICE["password"])  # the copied account, its case ignored as before
        admin = login(client, ADMIN["username"], ADMIN["password"])
        job = client.get(f"/api/v1/jobs/{ids['job']}", headers=admin).json()
        assert (job["status"], job["name"]) == ("done", "echo copied")
        assert client.get(f"/api/v1/job-schedulers/{ids['scheduler']}", headers=admin).json()["cron"] == "0 3 * * *"
        fresh = create(client, admin, type="command", command="true")
        assert fresh["id"] > ids["job"]
        assert wait_status(client, admin, fresh["id"])["status"] == "done"

    again = run_cli("db", "copy", "--data-dir", str(tmp_path / "data"), "--to", target)
    assert again.returncode == 2
    [line] = again.stderr.strip().splitlines()
    assert line.startswith(f"error: {target} is not empty (table ") and line.endswith("copy into an empty database")


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("nonsense", "expected a URL like"),
        ("mysql://root@localhost/vcore", "unsupported database 'mysql'"),
        ("sqlite:////tmp/other.sqlite3", "expected an empty PostgreSQL database"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot connect to postgresql+psycopg://nobody@127.0.0.1:1/none"),
    ],
)
def test_a_bad_target_is_one_line_and_exit_2(tmp_path: Path, to: str, message: str) -> None:
    result = run_cli("db", "copy", "--data-dir", str(tmp_path / "data"), "--to", to)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
