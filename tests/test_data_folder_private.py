"""The data folder is private: after a real server ran jobs, every folder is 0700 and every file 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, log_text, wait_status
from tests.support.waiting import wait_for


def loose_entries(folder: Path) -> list[str]:
    """Every entry of `folder` (itself included) whose mode is not 0700 (folders) or 0600 (files)."""
    loose = []
    for path in (folder, *folder.rglob("*")):
        mode = path.lstat().st_mode
        wanted = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) != wanted:
            loose.append(f"{path.relative_to(folder.parent)} {stat.S_IMODE(mode):o}")
    return loose


def test_every_file_a_used_data_folder_holds_is_0600_and_every_folder_0700(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # A tiny rotation size, so loguru's rotated files are among the files checked.
    app = start_app(data, env=app_env(LOG_ROTATION="2 KB", **ADMIN_ENV))
    try:
        auth = login(app.http, ADMIN["username"], ADMIN["password"])
        jobs = [
            create(app.http, auth, type="command", command="seq 1 200"),
            create(app.http, auth, type="script", script="disk_usage", input={"path": str(tmp_path)}),
            create(app.http, auth, queue_name="reserved", type="command", command="echo reserved"),
        ]
        for created in jobs:
            assert wait_status(app.http, auth, created["id"])["status"] == "done"
        for _ in range(30):  # enough request lines to rotate logs/vcore.log at least once
            app.http.get("/api/v1/jobs", headers=auth)
        wait_for(lambda: len(list((data / "logs").glob("vcore*.log"))) >= 2)
        names = {path.name for path in data.rglob("*")}
        # While it runs, the databases' -wal and -shm files exist; they are checked too.
        assert {
            "vcore.sqlite3",
            "vcore.sqlite3-wal",
            "vcore.sqlite3-shm",
            "huey_default.sqlite3",
            "huey_reserved.sqlite3",
            "secrets.env",
            "vcore-app.lock",
            "1.log",
            "2.log",
            "3.log",
        } <= names
        assert loose_entries(data) == []
    finally:
        assert app.stop() == 0
    assert loose_entries(data) == []


def test_an_existing_readable_data_folder_is_tightened_at_start_with_a_log_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "logs" / "jobs").mkdir(parents=True)
    (data / "logs" / "jobs" / "7.log").write_text("old output\n")
    (data / ".env").write_text("ENV_NAME=old\n")
    for path in (data, data / "logs", data / "logs" / "jobs"):
        path.chmod(0o755)
    for path in (data / "logs" / "jobs" / "7.log", data / ".env"):
        path.chmod(0o644)
    app = start_app(data)
    try:
        assert loose_entries(data) == []
        assert "was readable by other users: made" in app.output()
    finally:
        app.stop()


def test_job_processes_keep_the_umask_the_app_was_started_with(tmp_path: Path) -> None:
    """The app's own files are private; what a job writes follows the operator's umask, as in a shell."""
    data, shared = tmp_path / "data", tmp_path / "shared"
    shared.mkdir()
    previous = os.umask(0o022)
    try:
        app = start_app(data, env=app_env(**ADMIN_ENV))
    finally:
        os.umask(previous)
    try:
        auth = login(app.http, ADMIN["username"], ADMIN["password"])
        command = create(app.http, auth, type="command", command=f"umask; touch {shared}/report.txt")
        assert wait_status(app.http, auth, command["id"])["status"] == "done"
        assert "0022" in log_text(app.http, auth, command["id"])
        assert stat.S_IMODE((shared / "report.txt").stat().st_mode) == 0o644
        assert loose_entries(data) == []
    finally:
        app.stop()
