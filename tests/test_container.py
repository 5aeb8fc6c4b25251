"""The container image: what the Dockerfile and compose.yaml promise (always checked), and a real build
and smoke test with podman where this machine can (skipped otherwise, saying exactly why)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, RunningApp, app_env, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()
BASE_IMAGE = re.findall(r"^ARG BASE=(\S+)", DOCKERFILE, re.MULTILINE)[0]
TAG = "localhost/vcore-app:test"
OFFLINE = ROOT / "packaging" / "container-offline.sh"


def _instruction(name: str) -> list[str]:
    """The arguments of every `NAME ...` instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(f"{name} ")]


def test_the_dockerfile_is_multi_stage_slim_and_runs_as_a_user_without_privileges() -> None:
    assert _instruction("FROM") == ["${BASE} AS build", "${BASE}"]
    assert BASE_IMAGE.endswith("-slim")
    assert _instruction("USER") == ["vcore"]
    assert "--uid 10001" in DOCKERFILE
    assert _instruction("VOLUME") == ['["/data"]']
    assert "VCORE_DATA_DIR=/data" in DOCKERFILE and "SERVER_HOST=0.0.0.0" in DOCKERFILE
    assert "/healthz" in _instruction("HEALTHCHECK")[0]
    # the exposure warning is explained where the 0.0.0.0 is set and where the port is published
    assert "127.0.0.1 would be unreachable" in DOCKERFILE and "expose the app" in COMPOSE
    assert '"127.0.0.1:5000:5000"' in COMPOSE and "vcore-data:/data" in COMPOSE


def test_the_healthcheck_command_of_the_image_works_against_a_running_app(launch: Callable[..., RunningApp],
                                                                         tmp_path: Path) -> None:
    """The exact HEALTHCHECK command, pointed at a real app: 0 while healthy, 1 once it is gone."""
    healthcheck = json.loads(_instruction("HEALTHCHECK")[0].split("CMD", 1)[1])
    app = launch(tmp_path / "data")
    command = [sys.executable if part == "python" else part.replace("127.0.0.1:5000", f"127.0.0.1:{app.port}")
               for part in healthcheck]
    assert subprocess.run(command, timeout=30).returncode == 0
    app.stop()
    assert subprocess.run(command, timeout=30, capture_output=True).returncode != 0


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    return ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]


def _build() -> list[str] | str:
    """The build command for this machine, or why none can work here."""
    podman = shutil.which("podman")
    if podman is None:
        return "podman is not installed (apt-get install podman; .ci/run installs it)"
    info = subprocess.run([podman, "info", "--format", "json"], capture_output=True, text=True, timeout=120)
    if info.returncode != 0:
        return f"podman cannot run on this machine: {_last_line(info)}"
    online = [podman, "build", "-t", TAG, str(ROOT)]
    if subprocess.run([podman, "image", "exists", BASE_IMAGE], timeout=60).returncode == 0:
        return online
    pulled = subprocess.run([podman, "pull", "-q", BASE_IMAGE], capture_output=True, text=True, timeout=600)
    if pulled.returncode == 0:
        return online
    why = f"the base image {BASE_IMAGE} cannot be pulled from its registry here ({_last_line(pulled)})"
    if shutil.which("debootstrap") is None:
        return f"{why}, and debootstrap is not installed for {OFFLINE.name}"
    return ["env", f"TAG={TAG}", f"PYTHON={sys.executable}", str(OFFLINE)]


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image, built with the registry's base where it can be pulled, else with a Debian base made
    by debootstrap and the wheels of this machine (packaging/container-offline.sh)."""
    command = _build()
    if isinstance(command, str):
        pytest.skip(command)
    built = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if built.returncode != 0 and command[0] != "env" and "pip" in built.stdout + built.stderr:
        pytest.skip(f"the build cannot download the Python dependencies from PyPI here: {_last_line(built)}")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    yield TAG
    subprocess.run(["podman", "rmi", "-f", TAG], capture_output=True, timeout=120)


@pytest.mark.slow
def test_the_image_starts_as_a_user_keeps_its_data_in_the_volume_and_stops_cleanly(image: str) -> None:
    port = free_port()
    name = f"vcore-test-{port}"
    env = app_env(FIRST_SUPERUSER_USERNAME=ADMIN["username"], FIRST_SUPERUSER_EMAIL=ADMIN["email"],
                  FIRST_SUPERUSER_PASSWORD=ADMIN["password"])
    run = ["podman", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5000", "-v", f"{name}-data:/data",
           *[arg for key in ("FIRST_SUPERUSER_USERNAME", "FIRST_SUPERUSER_EMAIL", "FIRST_SUPERUSER_PASSWORD")
             for arg in ("-e", f"{key}={env[key]}")], image]
    assert subprocess.run(run, capture_output=True, text=True, timeout=120).returncode == 0
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), timeout=60)
        uid = subprocess.run(["podman", "exec", name, "id", "-u"], capture_output=True, text=True, timeout=60)
        assert uid.stdout.strip() == "10001"
        listing = subprocess.run(["podman", "exec", name, "ls", "/data"], capture_output=True, text=True, timeout=60)
        assert "vcore.sqlite3" in listing.stdout and "secrets.env" in listing.stdout
        assert subprocess.run(["podman", "healthcheck", "run", name], timeout=60).returncode == 0
        started = time.monotonic()
        subprocess.run(["podman", "stop", "-t", "20", name], capture_output=True, timeout=60)
        code = subprocess.run(["podman", "inspect", "--format", "{{.State.ExitCode}}", name],
                              capture_output=True, text=True, timeout=60).stdout.strip()
        assert code == "0" and time.monotonic() - started < 20  # SIGTERM handled, not killed after the grace
    finally:
        subprocess.run(["podman", "rm", "-f", name], capture_output=True, timeout=60)
        subprocess.run(["podman", "volume", "rm", "-f", f"{name}-data"], capture_output=True, timeout=60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
