"""The launcher as a real process: starts, serves /healthz, lays out the data folder, stops cleanly."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from tests.support.apps import RunningApp, start_app
from tests.support.waiting import wait_for


def test_it_answers_healthz_with_database_and_both_queues(running_app: RunningApp) -> None:
    body = running_app.http.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"]
    assert set(body["queues"]) == {"default", "reserved"}
    for queue in body["queues"].values():
        assert {"workers", "running", "pending"} <= set(queue)
    assert body["queues"]["default"]["workers"] == 2


def test_it_lays_out_the_data_folder(running_app: RunningApp) -> None:
    data = running_app.data_dir
    for name in (
        "vcore.sqlite3",
        "huey_default.sqlite3",
        "huey_reserved.sqlite3",
        "secrets.env",
        "logs/vcore.log",
        "logs/jobs",
        "plugins",
        "backups",
    ):
        assert (data / name).exists(), name
    assert stat.S_IMODE((data / "secrets.env").stat().st_mode) == 0o600
    # Written by the announce thread and loguru's queue, possibly just after /healthz answered.
    wait_for(lambda: "listening on" in (data / "logs" / "vcore.log").read_text())


def test_paths_with_and_without_trailing_slash_are_the_same(running_app: RunningApp) -> None:
    assert running_app.http.get("/healthz/").status_code == 200


def test_unknown_api_path_is_a_json_401_before_login_and_404_after(client, admin_headers) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/nothing-here").json() == {"detail": "Not authenticated"}
    response = client.get("/api/v1/nothing-here", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_it_stops_on_a_signal_with_exit_code_0_and_no_traceback(running_app: RunningApp, sig: int) -> None:
    assert running_app.stop(sig, timeout=10) == 0
    output = running_app.output()
    assert "Traceback" not in output
    assert "runtime stopped" in output
    assert "vcore-app stopped" in output


def test_a_second_start_reuses_the_generated_secrets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_app(data)
    secrets_before = (data / "secrets.env").read_text()
    assert first.stop() == 0
    second = start_app(data, command=("serve",))
    assert second.stop() == 0
    assert (data / "secrets.env").read_text() == secrets_before
    assert "JWT_ACCESS_SECRET_KEY=" in secrets_before
    assert secrets_before.split("JWT_ACCESS_SECRET_KEY=")[1][:60] not in first.output() + second.output()


def test_the_request_log_has_method_path_status_and_time(running_app: RunningApp) -> None:
    running_app.http.get("/healthz")
    running_app.stop()
    assert any(
        "GET /healthz 200" in line and line.rstrip().endswith("ms") for line in running_app.output().splitlines()
    )


def test_an_explicit_env_secret_wins_over_the_generated_one(tmp_path: Path) -> None:
    from tests.support.apps import app_env
    from vcore_app.settings import load_settings

    data = tmp_path / "data"
    app = start_app(data, env=app_env(JWT_ACCESS_SECRET_KEY="x" * 40))
    assert app.stop() == 0
    os.environ["JWT_ACCESS_SECRET_KEY"] = "y" * 40
    try:
        assert load_settings(data_dir=str(data)).JWT_ACCESS_SECRET_KEY.get_secret_value() == "y" * 40
    finally:
        del os.environ["JWT_ACCESS_SECRET_KEY"]
    assert load_settings(data_dir=str(data)).JWT_ACCESS_SECRET_KEY.get_secret_value() != "y" * 40
