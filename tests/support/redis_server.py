"""A real Redis from Debian's `redis-server`, in a temporary folder on a free loopback port, for one test:
its pub/sub channel is global to the server, so tests never share one."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.apps import free_port
from tests.support.waiting import wait_for


class RedisServer:
    """redis-server without persistence; `stop()` and `start()` again on the same port (Redis dying
    and coming back, empty, as one without persistence does)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = folder / "redis.conf"
        self.config.write_text(
            f'port {self.port}\nbind 127.0.0.1\ndir {folder}\nsave ""\nappendonly no\ndaemonize no\n'
            f"logfile {folder / 'redis.log'}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", str(self.config)], stdout=subprocess.DEVNULL)
        wait_for(self._answers, 20)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """Start one and yield it; stop it after."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
