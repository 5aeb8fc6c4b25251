"""Settings from the seed's `.env` example: what we do not use is named at start (with "did you
mean" for near misses), never silently dropped; FIRST_SUPERUSER_EMAIL is checked like the API's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.apps import RunningApp, app_env
from tests.support.cli import run_cli
from tests.support.waiting import wait_for
from vcore_app.settings import ignored_settings


def test_seed_keys_and_misspellings_are_named_in_one_start_warning(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".env").write_text("BASE_DOMAIN=localhost:5000\nSMTP_PROT=25\nTIMEZONE=UTC\n")
    app = launch(data, env=app_env(UVICORN_WORKERS="4", PATH_EXTRA_THING="x"))
    line = wait_for(lambda: next((text for text in app.output().splitlines() if "ignored settings:" in text), None))
    assert "BASE_DOMAIN" in line and "UVICORN_WORKERS" in line
    assert "SMTP_PROT (did you mean SMTP_PORT?)" in line
    assert "TIMEZONE" not in line and "PATH_EXTRA_THING" not in line
    assert sum("ignored settings:" in text for text in app.output().splitlines()) == 1


def test_nothing_is_reported_when_every_key_is_a_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=UTC\nSMTP_PORT=25\nvcore_data_dir=/tmp/x\n")
    assert ignored_settings(tmp_path, {"HOME": "/root", "SMTP_HOST": "mail"}) is None


def test_a_misspelt_key_in_the_environment_gets_a_suggestion(tmp_path: Path) -> None:
    line = ignored_settings(tmp_path, {"SMTP_PASWORD": "x", "LANG": "C"})
    assert line == "ignored settings: SMTP_PASWORD (did you mean SMTP_PASSWORD?); see README, Settings"


def test_a_first_superuser_email_without_at_sign_stops_the_start(tmp_path: Path) -> None:
    result = run_cli(
        "--data-dir", str(tmp_path / "data"), cwd=tmp_path, env=app_env(FIRST_SUPERUSER_EMAIL="admin.example.com")
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            "error: FIRST_SUPERUSER_EMAIL='admin.example.com': value is not a valid email address: "
            "An email address must have an @-sign."
        )
    ]
