"""Web and worker nodes (issue 20) as real child processes sharing one database and one Redis, as they
would on separate hosts: each has its own data folder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.auth import login
from tests.support.machine import group
from tests.support.redis_server import RedisServer, redis_server

# Fast failure detection for tests (the defaults are 30 s).
DEAD_AFTER = "3"
# Of every module of cluster tests: they need redis-server, and each starts several processes, so
# they run one at a time (one xdist worker).
CLUSTER_MARKS = [
    pytest.mark.skipif(not group("redis").present(), reason=group("redis").skip_reason),
    pytest.mark.xdist_group("cluster"),
]


@dataclass
class Cluster:
    folder: Path
    db_url: str
    redis: RedisServer
    webs: list[RunningApp] = field(default_factory=list)
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return app_env(
            **ADMIN_ENV,
            DB_URL=self.db_url,
            QUEUE_URL=self.redis.url,
            # Every web node signs and checks the same tokens.
            JWT_ACCESS_SECRET_KEY="cluster-test-access-key-0123456789abcdef",
            JWT_REFRESH_SECRET_KEY="cluster-test-refresh-key-0123456789abcdef",
            WORKER_DEAD_AFTER_SECONDS=DEAD_AFTER,
            SCHEDULER_FAILOVER_SECONDS=DEAD_AFTER,
            **extra,
        )

    def web(self, **extra: str) -> RunningApp:
        """A web node without workers (`serve --no-workers`)."""
        node = start_app(self.folder / f"web{len(self.webs)}", "--no-workers", env=self.env(**extra))
        self.webs.append(node)
        return node

    def worker(self, *args: str, host: str | None = None, **extra: str) -> subprocess.Popen[str]:
        """A worker node (`vcore-app worker`), with its own data folder and console log; with `host`,
        in a UTS namespace of its own under that host name, as on another machine (needs root)."""
        data_dir = self.folder / f"worker{len(self.workers)}"
        data_dir.mkdir(parents=True)
        with open(self.folder / f"worker{len(self.workers)}-console.log", "w") as log:
            command = [sys.executable, "-m", "vcore_app", "worker", "--data-dir", str(data_dir), *args]
            if host is not None:
                command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh", *command]
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.env(**extra),
                cwd=data_dir,
            )
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
        for node in self.webs:
            if node.proc.poll() is None:
                node.stop()
        for proc in self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def admin(node: RunningApp) -> dict[str, str]:
    return login(node.http, ADMIN["username"], ADMIN["password"])


def workers_of(node: RunningApp, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = node.http.get("/api/v1/workers", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@contextmanager
def running_cluster(folder: Path, db_url: str) -> Iterator[Cluster]:
    """A Redis of its own and nodes on `db_url`, all stopped after."""
    with redis_server(folder / "redis") as redis:
        nodes = Cluster(folder, db_url=db_url, redis=redis)
        try:
            yield nodes
        finally:
            nodes.stop()
