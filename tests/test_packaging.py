"""What packaging/ ships is valid: the systemd unit, the desktop entry; and the program can run itself again.

The validators come from Debian packages (`systemd`, `desktop-file-utils`); scripts/test-setup.sh installs
them when they are missing (as root), so in CI these tests run. Elsewhere they skip, naming the package.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.machine import group
from vcore_app import __version__
from vcore_app.launcher import _GRACEFUL_HTTP_SECONDS
from vcore_app.paths import self_command
from vcore_app.settings import Settings

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"
UNIT_BINARY = "/usr/local/bin/vcore-app"


def require(tool: str, group_name: str) -> str:
    """The path of `tool`, or skip with the reason its group gives."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(group(group_name).skip_reason)
    return path


@pytest.mark.parametrize(("name", "command"), [("vcore-app.service", "serve"), ("vcore-app-worker.service", "worker")])
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path, name: str, command: str) -> None:
    analyze = require("systemd-analyze", "systemd unit")
    unit = (PACKAGING / name).read_text()
    assert f"ExecStart={UNIT_BINARY} {command} " in unit
    # verify also checks that ExecStart's program exists; point it at a stand-in, verify the rest as is.
    stand_in = tmp_path / "vcore-app"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    (tmp_path / "vcore-app.service").write_text(unit.replace(UNIT_BINARY, str(stand_in)))
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "vcore-app.service")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_the_systemd_unit_gives_the_launchers_shutdown_time_and_keeps_its_data() -> None:
    lines = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in (PACKAGING / "vcore-app.service").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert lines["KillSignal"] == "SIGTERM"
    assert lines["KillMode"] == "mixed"  # the launcher ends the jobs' process groups itself
    launcher_shutdown = _GRACEFUL_HTTP_SECONDS + Settings.model_fields["SHUTDOWN_TIMEOUT"].default
    assert launcher_shutdown <= 10 < int(lines["TimeoutStopSec"].rstrip("s"))
    assert lines["StateDirectory"] == "vcore-app"
    assert "--data-dir /var/lib/vcore-app" in lines["ExecStart"]
    assert lines["RestartPreventExitStatus"] == "2"


def test_the_desktop_entry_is_valid() -> None:
    validate = require("desktop-file-validate", "desktop entry")
    result = subprocess.run(
        [validate, str(PACKAGING / "vcore-app.desktop")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_self_command_runs_this_program_again(tmp_path: Path) -> None:
    result = subprocess.run(
        [*self_command(), "--version"], capture_output=True, text=True, cwd=tmp_path, check=True, timeout=60
    )
    assert result.stdout.strip() == f"vcore-app {__version__}"
