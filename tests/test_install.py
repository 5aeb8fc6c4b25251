"""The wheel works on its own: `pip install .` in a fresh venv, then run outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.support.apps import app_env
from vcore_app import __version__

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_pip_install_gives_a_working_command_with_its_migrations(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(REPO)], check=True, cwd=tmp_path, timeout=600)
    command = env_dir / "bin" / "vcore-app"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = app_env()
    env.pop("PYTHONPATH", None)
    version = subprocess.run([command, "--version"], capture_output=True, text=True, cwd=outside, env=env, check=True)
    assert version.stdout.strip() == f"vcore-app {__version__}"
    data = str(tmp_path / "data")
    subprocess.run([command, "db", "upgrade", "--data-dir", data], cwd=outside, env=env, check=True, timeout=60)
    current = subprocess.run(
        [command, "db", "current", "--data-dir", data], capture_output=True, text=True, cwd=outside, env=env, check=True
    )
    assert "(head)" in current.stdout
    where = subprocess.run(
        [python, "-c", "import vcore_app.paths as p; print(p.assets_dir(), p.migrations_dir())"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
        check=True,
    ).stdout
    assert str(REPO) not in where and "site-packages" in where
    assert sys.prefix not in where
