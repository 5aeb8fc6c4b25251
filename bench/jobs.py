"""Job engine figures (issue 4, "Measure"). Run: `.venv/bin/python bench/jobs.py` from the repo root.

1. burst: 1,000 `true` command jobs created through the API, 4 workers, jobs/s until all done;
   against raw Huey (SqliteHuey, 4 thread workers, subprocess `true`, no tracking). Target ratio >= 0.7.
2. enqueue -> running latency on an idle app (p50, p99 over 200 jobs, from the job's queued_at to
   its started_at), and the app's CPU while idle for 30 s. Target p50 <= 10 ms and <= 1% of a core.
3. GET /api/v1/jobs?limit=50 with 100,000 jobs in the table: median ms and req/s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psutil
from huey import SqliteHuey
from support import ADMIN_ENV, App, clean_env, launch, wait_for

from vcore_app.db import migrate


def _app(folder: Path, **env: str) -> tuple[App, dict[str, str]]:
    app = launch(folder, env=clean_env(**ADMIN_ENV, LOG_LEVEL="WARNING", **env))
    return app, app.login()


def _count(app: App, auth: dict[str, str], status: str) -> int:
    return int(app.http.get("/api/v1/jobs", params={"status": status, "limit": 1}, headers=auth).json()["total"])


def burst(root: Path, jobs: int = 1000) -> tuple[float, float]:
    app, auth = _app(root / "burst", WORKERS_DEFAULT="4")
    try:
        started = time.perf_counter()

        def post(_: int) -> None:
            response = app.http.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth)
            assert response.status_code == 201, response.text

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post, range(jobs)))
        created = time.perf_counter()
        wait_for(lambda: _count(app, auth, "done") == jobs, timeout=600, interval=0.05)
        return jobs / (time.perf_counter() - started), jobs / (created - started)
    finally:
        app.stop()


def raw_huey(root: Path, jobs: int = 1000) -> float:
    huey = SqliteHuey("raw", filename=str(root / "raw.sqlite3"), fsync=False, results=False)
    done = threading.Semaphore(0)

    @huey.task()
    def run_true() -> None:
        subprocess.run(["true"], check=True)
        done.release()

    consumer = huey.create_consumer(workers=4, worker_type="thread", initial_delay=0.001, backoff=1.0, max_delay=0.01)
    consumer._set_signal_handlers = lambda: None  # in-process, as in the app
    consumer.start()
    try:
        started = time.perf_counter()
        for _ in range(jobs):
            run_true()
        for _ in range(jobs):
            done.acquire()
        return jobs / (time.perf_counter() - started)
    finally:
        consumer.stop(graceful=True)


def latency_and_idle(root: Path, jobs: int = 200, idle_seconds: float = 30) -> tuple[float, float, float]:
    app, auth = _app(root / "latency")
    try:
        delays = []
        for _ in range(jobs):
            created = app.http.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth).json()
            url = f"/api/v1/jobs/{created['id']}"
            found = wait_for(
                lambda url=url: (j := app.http.get(url, headers=auth).json())["status"] == "done" and j, interval=0.005
            )
            queued, running = datetime.fromisoformat(found["queued_at"]), datetime.fromisoformat(found["started_at"])
            delays.append((running - queued).total_seconds() * 1000)
            time.sleep(0.02)  # let the app go idle between jobs, as a person's clicks would
        server = psutil.Process(app.proc.pid)
        time.sleep(1)
        before = server.cpu_times()
        time.sleep(idle_seconds)
        after = server.cpu_times()
        busy = (after.user - before.user) + (after.system - before.system)
        delays.sort()
        return statistics.median(delays), delays[int(len(delays) * 0.99) - 1], busy / idle_seconds * 100
    finally:
        app.stop()


def job_list(root: Path, rows: int = 100_000, requests: int = 300) -> tuple[float, float]:
    folder = root / "list"
    folder.mkdir()
    url = f"sqlite:///{folder / 'vcore.sqlite3'}"
    migrate(url)
    import sqlite3

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(folder / "vcore.sqlite3") as conn:
        conn.executemany(
            "INSERT INTO job (name, type, priority, queue_name, status, attempt, max_retries, retry_delay_seconds,"
            " command, created_at, queued_at) VALUES (?, 'command', ?, ?, ?, 1, 0, 0, 'true', ?, ?)",
            [
                (
                    f"job {n}",
                    ("low", "normal", "high")[n % 3],
                    ("default", "reserved")[n % 2],
                    ("done", "failed", "done", "done")[n % 4],
                    now,
                    now,
                )
                for n in range(rows)
            ],
        )
    app, auth = _app(folder)
    try:
        assert app.http.get("/api/v1/jobs", params={"limit": 50}, headers=auth).json()["total"] == rows
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = app.http.get("/api/v1/jobs", params={"limit": 50}, headers=auth)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        filtered = []
        for _ in range(requests // 3):
            started = time.perf_counter()
            app.http.get("/api/v1/jobs", params={"limit": 50, "status": "failed"}, headers=auth)
            filtered.append(time.perf_counter() - started)
        print(f"   (filtered by status: median {statistics.median(filtered) * 1000:.1f} ms)")
        return statistics.median(times) * 1000, len(times) / sum(times)
    finally:
        app.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"machine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}")
        app_rate, create_rate = burst(root)
        raw_rate = raw_huey(root)
        print(
            f"1. burst of 1000 `true` jobs, 4 workers: app {app_rate:.0f} jobs/s (POSTs alone {create_rate:.0f}/s),"
            f" raw Huey {raw_rate:.0f} jobs/s, ratio {app_rate / raw_rate:.2f}"
        )
        p50, p99, idle = latency_and_idle(root)
        print(f"2. enqueue -> running: p50 {p50:.1f} ms, p99 {p99:.1f} ms; idle CPU {idle:.2f}% of a core over 30 s")
        median_ms, rate = job_list(root)
        print(
            f"3. GET /api/v1/jobs?limit=50 with 100,000 jobs: median {median_ms:.1f} ms, {rate:.0f} req/s (sequential)"
        )


if __name__ == "__main__":
    main()
