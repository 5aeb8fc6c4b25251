"""Live backups and offline restores: a backup taken while 4 workers write jobs restores to a database
that passes integrity_check and holds every job committed before the backup began; restore refuses a
running app, a newer schema and a foreign archive; the restored app settles jobs that were running."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, make_settings
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from vcore_app import backups, db
from vcore_app.app import create_app
from vcore_app.models import Job
from vcore_app.settings import Settings


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcore_app", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=app_env(),
        cwd=data_dir.parent,
    )


def job_ids(database: Path) -> set[int]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM job")}


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def _env(**extra: str) -> dict[str, str]:
    return app_env(
        **ADMIN_ENV,
        **extra,
    )


def test_a_backup_taken_while_4_workers_write_restores_every_job_committed_before_it(
    launch: Callable[..., RunningApp], tmp_path: Path
) -> None:
    app = launch(tmp_path / "data", env=_env(WORKERS_DEFAULT="4"))
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    committed: list[tuple[int, float]] = []  # (job id, when its 201 arrived)
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        with httpx.Client(base_url=app.url, timeout=30, headers=headers) as client:
            while not stop.is_set():
                response = client.post("/api/v1/jobs", json={"type": "command", "command": "echo x"})
                if response.status_code != 201:
                    errors.append(response.text)
                    return
                committed.append((response.json()["id"], time.monotonic()))

    writers = [threading.Thread(target=write) for _ in range(4)]
    for writer in writers:
        writer.start()
    try:
        while len(committed) < 100:  # the queue is busy: jobs are created, claimed, finished
            time.sleep(0.05)
        began = time.monotonic()
        archive = tmp_path / "live.tar.gz"
        made = cli("backup", "--to", str(archive), data_dir=app.data_dir)
        time.sleep(0.5)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert made.returncode == 0, made.stderr
    assert not errors, errors[:3]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    before = {job_id for job_id, at in committed if at < began}
    after = {job_id for job_id, at in committed if at > began + 60}
    assert len(before) >= 100 and not after

    restored_dir = tmp_path / "restored"
    result = cli("restore", str(archive), data_dir=restored_dir)
    assert result.returncode == 0, result.stderr
    database = restored_dir / "vcore.sqlite3"
    assert integrity(database) == "ok"
    missing = before - job_ids(database)
    assert not missing, f"{len(missing)} jobs committed before the backup are not in it: {sorted(missing)[:10]}"


def test_restore_refuses_while_the_app_runs(launch: Callable[..., RunningApp], tmp_path: Path) -> None:
    app = launch(tmp_path / "data", env=_env())
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    archive = app.http.post("/api/v1/backups", headers=headers).json()
    result = cli("restore", str(app.data_dir / "backups" / archive["name"]), data_dir=app.data_dir)
    assert result.returncode == 2
    assert "vcore-app is running on" in result.stderr and "stop it before restoring" in result.stderr
    assert "Traceback" not in result.stderr
    assert app.http.get("/healthz").status_code == 200  # untouched


def _archive_with(tmp_path: Path, database: Path | None, extra: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "crafted.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        if database is not None:
            tar.add(database, arcname="vcore.sqlite3")
        for name, data in (extra or {}).items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    return path


def _database(tmp_path: Path, revision: str | None = None) -> Path:
    path = tmp_path / "made.sqlite3"
    db.migrate(f"sqlite:///{path}")
    if revision is not None:
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    return path


@pytest.mark.parametrize(
    ("craft", "message"),
    [
        (lambda tmp: _archive_with(tmp, _database(tmp, "9999_from_the_future")), "is newer than this vcore-app"),
        (lambda tmp: _archive_with(tmp, _database(tmp), {"../evil.sh": b"rm -rf /"}), "unexpected entry '../evil.sh'"),
        (lambda tmp: _archive_with(tmp, None, {"notes.txt": b"hi"}), "unexpected entry 'notes.txt'"),
        (lambda tmp: _archive_with(tmp, None, {"manifest.json": b"{}"}), "not a vcore-app backup"),
        (lambda tmp: (tmp / "plain.tar.gz").write_bytes(b"not an archive") and tmp / "plain.tar.gz", "not a readable"),
        (lambda tmp: _archive_with(tmp, None, {"vcore.sqlite3": b"SQLite format 3\x00" + b"\x00" * 200}), "damaged"),
    ],
    ids=["newer schema", "path traversal", "foreign file", "no database", "not an archive", "damaged database"],
)
def test_restore_refuses_a_bad_archive_and_changes_nothing(
    tmp_path: Path, craft: Callable[[Path], Path], message: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert cli("db", "upgrade", data_dir=data_dir).returncode == 0
    database = (data_dir / "vcore.sqlite3").read_bytes()
    before = sorted(p.name for p in data_dir.iterdir())
    result = cli("restore", str(craft(tmp_path)), data_dir=data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    # only the instance lock file (taken while restoring) is new; the database is as it was
    assert sorted(p.name for p in data_dir.iterdir() if p.name != "vcore-app.lock") == before
    assert (data_dir / "vcore.sqlite3").read_bytes() == database
    assert not list((data_dir / "backups").glob("before-restore-*"))


@pytest.fixture
def stopped_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Path]]:
    """A data folder whose backup holds a job `running` under an old boot and a `queued` one."""
    (tmp_path / "a").mkdir()
    settings = make_settings(tmp_path / "a", monkeypatch)
    (settings.plugins_dir / "mine.py").write_text("# a plugin\n")
    db.migrate(settings.DB_URL)
    engine = db.make_engine(settings.DB_URL)
    with db.session(engine) as session:
        session.add(
            Job(
                id=1,
                name="was running",
                type="command",
                command="sleep 100",
                status="running",
                attempt=1,
                boot_id="0" * 32,
                pid=None,
            )
        )
        session.add(Job(id=2, name="was waiting", type="command", command="true", status="queued"))
    archive = backups.create_backup(settings=settings, engine=engine, actor="test")
    engine.dispose()
    yield settings, archive


def test_a_restored_app_settles_running_jobs_like_after_a_crash(
    stopped_source: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, archive = stopped_source
    (tmp_path / "b").mkdir()
    target = make_settings(tmp_path / "b", monkeypatch)
    db.migrate(target.DB_URL)  # an installation with data of its own, moved aside by the restore
    old_secrets = (target.DATA_DIR / "secrets.env").read_text()
    aside = backups.restore(settings=target, archive=archive)
    assert (aside / "vcore.sqlite3").exists() and (aside / "secrets.env").read_text() == old_secrets
    assert (target.DATA_DIR / "secrets.env").read_text() == (source.DATA_DIR / "secrets.env").read_text()
    assert stat.S_IMODE((target.DATA_DIR / "secrets.env").stat().st_mode) == 0o600
    assert (target.plugins_dir / "mine.py").read_text() == "# a plugin\n"
    restored = make_settings(tmp_path / "b", monkeypatch)  # the restored secrets are read at start
    with TestClient(create_app(restored)) as client:
        headers = login(client, ADMIN["username"], ADMIN["password"])
        interrupted = wait_status(client, headers, 1, "failed")
        assert interrupted["error"] == "interrupted by restart"
        assert wait_status(client, headers, 2, "done")["status"] == "done"  # re-enqueued from the ledger
        with db.session(client.app.state.runtime.engine, readonly=True) as session:
            rows = session.execute(text("SELECT actor, target FROM audit_event WHERE action = 'backup.restore'")).all()
    assert rows and rows[0][0] == "cli" and archive.name in rows[0][1]


def test_backups_through_the_api_are_private_kept_n_and_downloadable(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"BACKUP_KEEP": 2}))) as client:
        headers = login(client, ADMIN["username"], ADMIN["password"])
        names = []
        for _ in range(3):
            response = client.post("/api/v1/backups", headers=headers)
            assert response.status_code == 201, response.text
            names.append(response.json()["name"])
        listed = client.get("/api/v1/backups", headers=headers).json()
        assert [item["name"] for item in listed["items"]] == names[:0:-1]  # newest first, the oldest pruned
        path = settings.backups_dir / names[-1]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        download = client.get(f"/api/v1/backups/{names[-1]}", headers=headers)
        assert download.status_code == 200 and download.headers["cache-control"] == "no-store"
        with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as tar:
            members = set(tar.getnames())
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert {"vcore.sqlite3", "secrets.env", "manifest.json", "plugins"} <= members
        assert manifest["schema_revision"] in backups.known_revisions(settings)
        for bad in (names[0], "..%2Fsecrets.env", "vcore.sqlite3"):
            assert client.get(f"/api/v1/backups/{bad}", headers=headers).status_code == 404


def test_the_builtin_backup_script_runs_for_a_superuser_only(
    client: TestClient, admin_headers: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    done = wait_status(
        client, admin_headers, create(client, admin_headers, type="script", script="backup")["id"], timeout=60
    )
    assert done["status"] == "done", done
    archive = done["result"]["output"]["archive"]
    assert (client.app.state.settings.backups_dir / archive).exists()
    alice = make_user("alice")
    refused = wait_status(
        client, admin_headers, create(client, alice, type="script", script="backup")["id"], timeout=60
    )
    assert refused["status"] == "failed" and "only a superuser" in refused["error"]


def test_backup_to_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = cli("backup", "--to", str(tmp_path / "missing" / "x.tar.gz"), data_dir=data_dir)
    assert result.returncode == 2 and result.stderr.startswith("error: --to=") and "Traceback" not in result.stderr
