"""The command line: help, version, settings table, db commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import run_cli
from vcore_app import __version__
from vcore_app.settings import Settings


def test_version_is_printed_by_the_module_and_the_console_script(tmp_path: Path) -> None:
    assert run_cli("--version", cwd=tmp_path).stdout.strip() == f"vcore-app {__version__}"
    script = Path(sys.executable).parent / "vcore-app"
    assert script.exists(), "the vcore-app console script is installed next to the interpreter"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert result.stdout.strip() == f"vcore-app {__version__}"


def test_help_lists_the_commands_and_serve_lists_its_options(tmp_path: Path) -> None:
    assert {"serve", "db"} <= set(run_cli("--help", cwd=tmp_path).stdout.split())
    serve_help = run_cli("serve", "--help", cwd=tmp_path).stdout
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--open-browser",
        "--no-browser",
        "--workers-default",
        "--workers-reserved",
    ):
        assert option in serve_help


def test_help_settings_documents_every_setting_with_its_env_var(tmp_path: Path) -> None:
    output = run_cli("--help-settings", cwd=tmp_path).stdout
    for name, field in Settings.model_fields.items():
        assert f"\n{name}\n" in f"\n{output}", name
        assert field.description, f"{name} has no help line"
    assert "env VCORE_DATA_DIR" in output
    assert "env SERVER_PORT, default 5000" in output


def test_db_commands_upgrade_report_and_downgrade(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run_cli("db", "upgrade", "--data-dir", data, cwd=tmp_path).returncode == 0
    current = run_cli("db", "current", "--data-dir", data, cwd=tmp_path)
    assert "(head)" in current.stdout
    history = run_cli("db", "history", "--data-dir", data, cwd=tmp_path)
    assert "0001" in history.stdout
    assert run_cli("db", "downgrade", "base", "--data-dir", data, cwd=tmp_path).returncode == 0
    assert "(head)" not in run_cli("db", "current", "--data-dir", data, cwd=tmp_path).stdout
