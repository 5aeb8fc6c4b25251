"""A real PostgreSQL server for the tests: Debian's package, a cluster in a temporary folder, a free
loopback port, stopped at the end of the session.

Each pytest process (each xdist worker) starts its own server when its first test asks for one: no
worker waits on another or shares its databases, and a crashed worker takes only its own server with it.
Starting one costs about a second; the durability settings are off because a test database never
outlives its server.

A test gets a fresh, empty database that is already migrated: `CREATE DATABASE ... TEMPLATE` copies
the migrated template in a few milliseconds, where migrating from scratch takes a second
(test_migrations.py still migrates from scratch on PostgreSQL).

initdb refuses to run as root, and CI runs as root: then the server runs as Debian's `postgres` system
user (made by the postgresql package), in a folder it owns.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import create_engine, text

from tests.support.apps import free_port
from tests.support.machine import postgres_bin
from vcore_app.db import migrate

SUPERUSER = "postgres"
TEMPLATE = "vcore_template"
_PREFIX = "vcore-pg-"
_OWNER = "owner.pid"  # the test process that started the server
# Speed over durability: nothing here must survive a crash of the machine.
_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    """One running cluster; `url(name)` is a SQLAlchemy URL of one of its databases."""

    folder: Path
    port: int
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _template_ready: bool = field(default=False, repr=False)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str) -> None:
        """Statements that cannot run in a transaction (CREATE/DROP DATABASE), on the `postgres` database."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def create_database(self, *, migrated: bool = True) -> str:
        """A new database, named in order (test_1, test_2, ...): empty, or at the migrations' head."""
        name = f"test_{next(self._names)}"
        if migrated and not self._template_ready:
            self.execute(f"CREATE DATABASE {TEMPLATE}")
            migrate(self.url(TEMPLATE))
            self._template_ready = True
        self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if migrated else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop it even while an app forgot a connection open (WITH FORCE ends them)."""
        self.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is not None:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", "-w"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


def _stop_orphans() -> None:
    """Stop the servers of test processes that died without stopping them (killed, or a broken pipe
    of `pytest | head`): the server would otherwise run on, in /tmp, until the machine restarts."""
    for owner in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*/{_OWNER}"):
        try:
            alive = psutil.pid_exists(int(owner.read_text()))
        except (OSError, ValueError):
            continue
        if not alive:
            PostgresServer(folder=owner.parent, port=0).stop()


def start_server(attempts: int = 3) -> PostgresServer:
    """initdb (trust on loopback) and pg_ctl start -w on a free port; a port taken between finding it
    free and binding it (another worker) is retried on a new one."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's initdb was not found")
    _stop_orphans()
    # Not under pytest's tmp folder: that one is private to root (0700) and `postgres` could not enter it.
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (folder / _OWNER).write_text(str(os.getpid()))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(folder / "data"),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _attempt in range(attempts):
            server = PostgresServer(folder=folder, port=free_port())
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={server.port}",
                    f"-c unix_socket_directories={folder}",
                    *(f"-c {setting}" for setting in _FAST),
                ]
            )
            pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-l", str(folder / "server.log")]
            started = subprocess.run(
                _as_server_user([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
                capture_output=True,
                text=True,
                timeout=90,
            )
            if started.returncode == 0:
                return server
        log = (folder / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start: {started.stdout}{started.stderr}\n{log}")
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
        raise
