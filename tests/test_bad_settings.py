"""A bad setting stops the start with one line naming the setting and the value, exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.apps import app_env, free_port
from tests.support.cli import run_cli


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--port", "abc"], {}, "SERVER_PORT='abc'"),
        (["--port", "70000"], {}, "SERVER_PORT='70000'"),
        ([], {"LOG_LEVEL": "loud"}, "LOG_LEVEL='LOUD'"),
        ([], {"TIMEZONE": "Mars/Olympus"}, "TIMEZONE='Mars/Olympus'"),
        ([], {"TIMEZONE": "America"}, "TIMEZONE='America'"),
        ([], {"ACCENT": "blue"}, "ACCENT='blue'"),
        (["--workers-default", "-1"], {}, "WORKERS_DEFAULT='-1'"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = run_cli(*args, "--data-dir", str(tmp_path / "data"), env=app_env(**env), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_value_from_dot_env_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Nowhere/Land\n")
    result = run_cli("--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2
    assert "TIMEZONE='Nowhere/Land'" in result.stderr


def test_the_data_folder_env_file_is_read_and_the_flag_wins(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".env").write_text("SERVER_PORT=notaport\n")
    assert "SERVER_PORT='notaport'" in run_cli("--data-dir", str(data), cwd=tmp_path).stderr
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = run_cli("--data-dir", str(data), "--port", str(port), cwd=tmp_path)
    assert f"SERVER_PORT='{port}'" in result.stderr  # the flag replaced the bad file value


def test_an_unwritable_data_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("--data-dir", str(blocker / "data"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"error: VCORE_DATA_DIR='{blocker / 'data'}'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = run_cli("--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2
    assert f"error: SERVER_PORT='{port}': address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "vcore.sqlite3").exists()
