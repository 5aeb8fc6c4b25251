"""Real apps on temporary data folders: the launcher as a child process on a free loopback port, and
the settings of an in-process app, both with the first superuser ADMIN."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.waiting import wait_for
from vcore_app.settings import Settings, load_settings

ADMIN = {"username": "admin", "email": "admin@example.com", "password": "admin-password-1"}
# The same first superuser, as the environment of a child process.
ADMIN_ENV = {
    "FIRST_SUPERUSER_USERNAME": ADMIN["username"],
    "FIRST_SUPERUSER_EMAIL": ADMIN["email"],
    "FIRST_SUPERUSER_PASSWORD": ADMIN["password"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    """The launcher as a real child process on a free loopback port."""

    proc: subprocess.Popen[str]
    data_dir: Path
    port: int
    log_path: Path
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=10)
        return self._client

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self._client is not None:
            self._client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def app_env(**extra: str) -> dict[str, str]:
    """This process's environment without any app setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER"))}
    env.update(extra)
    return env


def start_app(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    wait: bool = True,
    command: tuple[str, ...] = (),
    program: tuple[str, ...] = (sys.executable, "-m", "vcore_app"),
) -> RunningApp:
    """Start `python -m vcore_app [command] --port P --data-dir D [args]` and wait for /healthz.

    `program` replaces `python -m vcore_app`, e.g. with the built binary.
    """
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-console-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*program, *command, "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env or app_env(),
            cwd=data_dir,
        )
    running = RunningApp(proc=proc, data_dir=data_dir, port=port, log_path=log_path)
    if wait:
        try:
            wait_until_healthy(running)
        except BaseException:
            proc.kill()  # no fixture will stop an app it never got: do not leave it running
            proc.wait()
            raise
    return running


def wait_until_healthy(running: RunningApp, timeout: float = 60.0) -> None:
    """Wait for /healthz; the deadline is generous because a loaded 2-core machine running the tests in
    parallel can take tens of seconds to start Python (startup speed is bench/startup.py's business)."""

    def healthy() -> bool:
        if running.proc.poll() is not None:
            raise AssertionError(f"app exited with {running.proc.returncode}:\n{running.output()}")
        try:
            return httpx.get(f"{running.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout)


def make_settings(folder: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Settings:
    """Settings on `folder/data` with the admin of ADMIN, untouched by the caller's environment."""
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER")):
            monkeypatch.delenv(name)
    return load_settings(
        data_dir=str(folder / "data"),
        overrides={
            "LOG_LEVEL": "WARNING",
            "FIRST_SUPERUSER_USERNAME": ADMIN["username"],
            "FIRST_SUPERUSER_EMAIL": ADMIN["email"],
            "FIRST_SUPERUSER_PASSWORD": ADMIN["password"],
            **overrides,
        },
    )
