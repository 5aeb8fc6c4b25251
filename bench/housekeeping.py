"""Housekeeping benchmark: the latency of `GET /api/v1/jobs` while housekeeping removes 60,000 of
100,000 jobs, against the same requests with housekeeping idle. Prints p50/p99 and their ratios.

A real app in a child process; the jobs are written straight into its database by this process.
Target (for later): p99 during housekeeping <= 5x the idle p99 (short batches never hold the lock long).
Run: .venv/bin/python bench/housekeeping.py [jobs]
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

USER, PASSWORD = "admin", "bench-password-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _insert(database: Path, first_id: int, count: int, finished_at: datetime) -> None:
    stamp = finished_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (first_id + i, f"bench {first_id + i}", "command", "normal", "default", "done", 1, 0, 0, "true", stamp, stamp)
        for i in range(count)
    ]
    with sqlite3.connect(database, timeout=60) as connection:
        connection.executemany(
            "INSERT INTO job (id, name, type, priority, queue_name, status, attempt, max_retries, retry_delay_seconds, "
            "command, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _latencies(client: httpx.Client, seconds: float | None = None, until: object = None) -> list[float]:
    found = []
    deadline = time.monotonic() + (seconds or 600)
    while time.monotonic() < deadline and not (until and until()):  # type: ignore[operator]
        start = time.perf_counter()
        response = client.get("/api/v1/jobs", params={"limit": 50})
        found.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return found


def _summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)] * 1000


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    old = total * 6 // 10
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        port = _free_port()
        env = {
            **os.environ,
            "FIRST_SUPERUSER_USERNAME": USER,
            "FIRST_SUPERUSER_EMAIL": "bench@example.com",
            "FIRST_SUPERUSER_PASSWORD": PASSWORD,
            "JOB_RETENTION_DAYS": "90",
            "WORKERS_DEFAULT": "2",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "vcore_app", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the app did not start")
                time.sleep(0.05)
            token = httpx.post(
                f"{base}/api/v1/login/access-token", data={"username": USER, "password": PASSWORD}
            ).json()["access_token"]
            client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            now = datetime.now(UTC)
            database = data_dir / "vcore.sqlite3"
            _insert(database, 1, old, now - timedelta(days=120))
            _insert(database, old + 1, total - old, now - timedelta(hours=1))
            idle = _latencies(client, seconds=10)

            def finished() -> bool:
                last = client.get("/api/v1/housekeeping").json()["last_run"]
                return bool(last and last["removed_jobs"] >= old)

            assert client.post("/api/v1/housekeeping").status_code == 202
            started = time.monotonic()
            busy = _latencies(client, until=finished)
            took = time.monotonic() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    idle_p50, idle_p99 = _summary(idle)
    busy_p50, busy_p99 = _summary(busy)
    print(f"{total:,} jobs, {old:,} removed by housekeeping in {took:.1f} s")
    print(f"GET /api/v1/jobs idle:         p50 {idle_p50:.1f} ms, p99 {idle_p99:.1f} ms ({len(idle)} requests)")
    print(f"GET /api/v1/jobs housekeeping: p50 {busy_p50:.1f} ms, p99 {busy_p99:.1f} ms ({len(busy)} requests)")
    print(f"ratio during/idle: p50 {busy_p50 / idle_p50:.2f}x, p99 {busy_p99 / idle_p99:.2f}x; target p99 <= 5x")


if __name__ == "__main__":
    main()
