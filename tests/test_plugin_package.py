"""The example plugin installed as a package (user (b) of docs/plugins.md): pip installs it from the
local path into a fresh venv, offline, and vcore-app finds it through the `vcore_app` entry point."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.apps import app_env
from tests.test_plugin_example import EXAMPLE


@pytest.mark.slow
def test_the_example_installs_offline_as_a_package_and_its_entry_point_is_found(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # vcore-app and its dependencies come from this test's environment (no network, no copy of them)
    ours = sysconfig.get_paths()["purelib"]
    (site_packages / "vcore_test_parent.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--no-build-isolation",
            "--no-deps",
            "--quiet",
            str(EXAMPLE.parent),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert list(site_packages.glob("vcore_example_plugin-1.0.0.dist-info"))

    data = tmp_path / "data"
    listed = subprocess.run(
        [str(python), "-m", "vcore_app", "plugins", "list", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=app_env(),
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "example  [package] vcore-example-plugin 1.0.0\n    loaded\n" in listed.stdout
    hello = subprocess.run(
        [str(python), "-m", "vcore_app", "example-hello"],
        capture_output=True,
        text=True,
        env=app_env(VCORE_DATA_DIR=str(data)),
        timeout=120,
    )
    assert hello.stdout == "hello, world\n", hello.stderr
