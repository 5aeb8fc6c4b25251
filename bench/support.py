"""What the bench scripts share: start vcore-app as a real process on a free loopback port, wait for
/healthz, log in. The scripts import the app and this module, never the tests' fixtures, so bench/ runs on
its own: `.venv/bin/python bench/<script>.py` from the repo root (the script's folder is then on sys.path).
One exception, named: bench/cluster.py starts its throwaway PostgreSQL and Redis with the tests' helpers
(tests/support/postgres.py, redis_server.py) rather than with a second copy of them.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ADMIN = {"username": "bench", "email": "bench@example.com", "password": "bench-password-1"}
# The first superuser ADMIN, as the environment of the app.
ADMIN_ENV = {
    "FIRST_SUPERUSER_USERNAME": ADMIN["username"],
    "FIRST_SUPERUSER_EMAIL": ADMIN["email"],
    "FIRST_SUPERUSER_PASSWORD": ADMIN["password"],
}
SOURCE = (sys.executable, "-m", "vcore_app")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any app setting (so the caller's VCORE_* cannot skew a figure), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER"))}
    env.update(extra)
    return env


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return it; give up after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)
    return value


@dataclass
class App:
    """A started app: its process, its URL, how long it took to answer /healthz, and an HTTP client."""

    proc: subprocess.Popen[bytes]
    url: str
    started_in: float
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def login(self, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> dict[str, str]:
        """The Authorization header of a fresh access token."""
        response = self.http.post("/api/v1/login/access-token", data={"username": username, "password": password})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def launch(
    data_dir: Path, *, program: tuple[str, ...] = SOURCE, env: Mapping[str, str] | None = None, timeout: float = 300.0
) -> App:
    """`PROGRAM --port P --data-dir D` with its output discarded, once /healthz answers 200.

    The deadline is long: a bench measures a slow start, it does not fail it (the one-file binary
    unpacks itself first, and a busy machine can take minutes)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    proc = subprocess.Popen(
        [*program, "--port", str(port), "--data-dir", str(data_dir)],
        env=None if env is None else dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"{program[-1]} exited with {proc.returncode}")
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout, interval=0.01)
    except BaseException:
        # Kill the one-file binary's Python child too: SIGKILL of the bootloader is not forwarded.
        children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        for process in (*children, proc):
            process.kill()
        raise
    return App(proc=proc, url=url, started_in=time.perf_counter() - began)


def spread(values: list[float], digits: int = 0) -> str:
    """min / median / max, as the bench tables print them."""
    return " / ".join(f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values)))
