"""The SQLite-only upkeep on a PostgreSQL ledger (issue 20): each part does the sensible thing there,
never a traceback. Housekeeping removes rows but leaves VACUUM and the WAL to the server, /metrics and
the dashboard name no SQLite file of the app database, and a backup points at pg_dump. And DB_URL,
which may hold the server's password, never reaches a job's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, app_env, free_port, make_settings
from tests.support.auth import login
from tests.support.cli import run_cli
from tests.support.jobs import create, log_text, wait_status
from tests.support.waiting import wait_for
from vcore_app.app import create_app

TOKEN = "metrics-token-for-the-test"


@pytest.fixture
def pg_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, monkeypatch, DB_URL=postgres_url, METRICS_TOKEN=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


def test_housekeeping_runs_without_vacuum_and_storage_names_no_app_database_file(pg_client: TestClient) -> None:
    admin = login(pg_client, ADMIN["username"], ADMIN["password"])
    runtime = pg_client.app.state.runtime
    wait_status(pg_client, admin, create(pg_client, admin, type="command", command="echo hello")["id"])
    wait_for(lambda: runtime.housekeeping.last is not None)
    assert runtime.housekeeping.run_once().checkpointed is False
    report = pg_client.get("/api/v1/housekeeping", headers=admin).json()
    assert report["jobs"] == 1 and report["oldest_job_at"].endswith("+00:00")
    assert report["last_run"]["vacuumed"] is False and report["last_run"]["summary"].startswith("removed 0 jobs")
    assert "app" not in report["databases_bytes"]


def test_metrics_report_jobs_and_no_sqlite_file_of_the_app_database(pg_client: TestClient) -> None:
    metrics = pg_client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert metrics.status_code == 200
    assert 'vcore_sqlite_bytes{database="huey_default"' in metrics.text
    assert 'database="app"' not in metrics.text


def test_a_backup_points_at_pg_dump_in_one_line(tmp_path: Path, postgres_url: str) -> None:
    result = run_cli("backup", "--data-dir", str(tmp_path / "data"), env=app_env(DB_URL=postgres_url))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: DB_URL is a PostgreSQL database: back it up with pg_dump")


def test_jobs_never_see_db_url_and_the_backup_script_still_finds_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.setenv("DB_URL", postgres_url)  # as an operator sets it
    with TestClient(create_app(make_settings(tmp_path, monkeypatch))) as client:
        admin = login(client, ADMIN["username"], ADMIN["password"])
        command = create(client, admin, type="command", command='echo "db=[${DB_URL:-}]"')
        assert wait_status(client, admin, command["id"])["status"] == "done"
        assert "db=[]" in log_text(client, admin, command["id"])
        backup = wait_status(client, admin, create(client, admin, type="script", script="backup", input={})["id"])
        assert backup["status"] == "failed" and "back it up with pg_dump" in backup["error"]


# serve reaches the database through the runtime, db current through alembic: the two ways in.
@pytest.mark.parametrize(
    "command",
    [pytest.param(("serve", "--port", str(free_port())), id="serve"), pytest.param(("db", "current"), id="db")],
)
def test_a_database_server_that_cannot_be_reached_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    unreachable = "postgresql://vcore:s3cret@127.0.0.1:1/vcore"
    result = run_cli(*command, "--data-dir", str(tmp_path / "data"), env=app_env(DB_URL=unreachable))
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: DB_URL='postgresql+psycopg://vcore:***@127.0.0.1:1/vcore': cannot connect (")
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr + result.stdout
