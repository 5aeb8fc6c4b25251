"""Throughput (issue 13): a burst of 1,000 `true` jobs three ways, side by side, as ratios against a
ledger baseline. Run: `.venv/bin/python bench/throughput.py [--jobs 1000] [--rounds 3]` from the repo root.

- app, batch: `POST /api/v1/jobs/batch` in chunks of 250 (4 clients), 4 workers, until all are done;
- app, single: one `POST /api/v1/jobs` per job from 20 clients, 4 workers, until all are done;
- ledger baseline: raw Huey (SqliteHuey, 4 thread workers) plus a SQLite ledger doing the writes a job
  needs (insert queued, claim running, finish done) and a `true` child per job: what the app's
  guarantees cost at the least, with none of its HTTP, auth, logs or live updates.

For each: jobs/s (wall clock from the first request to the last job done) and the CPU the process
spent per job (its own user+system time, not the `true` children's). Rounds are interleaved so the
three share the machine's noise; min / median / max are printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from support import ADMIN_ENV, App, clean_env, launch, spread, wait_for

TRUE = {"type": "command", "command": "true"}


def _own_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _app_burst(root: Path, jobs: int, post: Callable[[App, dict[str, str], int], None]) -> tuple[float, float]:
    app = launch(root, env=clean_env(**ADMIN_ENV, LOG_LEVEL="WARNING", WORKERS_DEFAULT="4"))
    try:
        auth = app.login()
        process = psutil.Process(app.proc.pid)
        cpu, started = _own_cpu(process), time.perf_counter()
        post(app, auth, jobs)

        def all_done() -> bool:
            response = app.http.get("/api/v1/jobs", params={"status": "done", "limit": 1}, headers=auth)
            return int(response.json()["total"]) == jobs

        wait_for(all_done, timeout=900, interval=0.05)
        elapsed = time.perf_counter() - started
        return jobs / elapsed, (_own_cpu(process) - cpu) / jobs * 1000
    finally:
        app.stop()


def _batch(app: App, auth: dict[str, str], jobs: int) -> None:
    chunk = 250

    def post(start: int) -> None:
        body = {"jobs": [TRUE] * min(chunk, jobs - start)}
        response = app.http.post("/api/v1/jobs/batch", json=body, headers=auth)
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, range(0, jobs, chunk)))


def _single(app: App, auth: dict[str, str], jobs: int) -> None:
    def post(_: int) -> None:
        response = app.http.post("/api/v1/jobs", json=TRUE, headers=auth)
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(post, range(jobs)))


_LEDGER = """
import sqlite3, subprocess, sys, threading, time
from huey import SqliteHuey

folder, jobs = sys.argv[1], int(sys.argv[2])
huey = SqliteHuey("ledger", filename=f"{folder}/queue.sqlite3", results=False)
local = threading.local()

def ledger():
    if not hasattr(local, "db"):
        local.db = sqlite3.connect(f"{folder}/ledger.sqlite3", timeout=30, isolation_level=None)
        local.db.execute("pragma journal_mode=wal")
        local.db.execute("pragma synchronous=normal")
    return local.db

ledger().execute("create table if not exists job (id integer primary key, status text, pid int, exit int)")
done = threading.Semaphore(0)

@huey.task()
def run(job_id):
    db = ledger()
    db.execute("update job set status='running' where id=? and status='queued'", (job_id,))
    child = subprocess.Popen(["true"])
    db.execute("update job set status='done', pid=?, exit=? where id=?", (child.pid, child.wait(), job_id))
    done.release()

consumer = huey.create_consumer(workers=4, worker_type="thread", initial_delay=0.001, backoff=1.0, max_delay=0.01)
consumer._set_signal_handlers = lambda: None
consumer.start()
for _ in range(jobs):
    job_id = ledger().execute("insert into job (status) values ('queued')").lastrowid
    run(job_id)
for _ in range(jobs):
    done.acquire()
consumer.stop(graceful=True)
"""


def _ledger_burst(root: Path, jobs: int) -> tuple[float, float]:
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = psutil.Popen([sys.executable, "-c", _LEDGER, str(root), str(jobs)])
    cpu = 0.0
    while proc.poll() is None:  # the last reading before it exits: its own CPU, children excluded
        try:
            cpu = _own_cpu(proc)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    assert proc.returncode == 0
    return jobs / (time.perf_counter() - started), cpu / jobs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"batch": [], "single": [], "ledger": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            base = Path(tmp) / f"round-{round_}"
            results["ledger"].append(_ledger_burst(base / "ledger", args.jobs))
            results["batch"].append(_app_burst(base / "batch", args.jobs, _batch))
            results["single"].append(_app_burst(base / "single", args.jobs, _single))
    print(f"machine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}; {args.jobs} `true` jobs per burst")
    print("| figure (min / median / max) | jobs/s | ratio to ledger | our CPU per job, ms |")
    print("|---|---|---|---|")
    ledger_rates = [rate for rate, _ in results["ledger"]]
    for name in ("batch", "single", "ledger"):
        rates = [rate for rate, _ in results[name]]
        cpus = [cpu for _, cpu in results[name]]
        ratios = [rate / base for rate, base in zip(rates, ledger_rates, strict=True)]
        print(f"| {name} | {spread(rates)} | {spread(ratios, 2)} | {spread(cpus, 2)} |")


if __name__ == "__main__":
    main()
