"""Scheduler benchmark: 20 repeat schedulers every 1 s and 5 cron schedulers every minute, for 3 minutes,
against a real app. Prints the fire count per scheduler (expected +-1) and the drift of actual vs
planned time (job created, job started), p50 and p99.

Run: .venv/bin/python bench/scheduler.py [seconds]   (default 180)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from support import ADMIN_ENV, launch

API = "/api/v1"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 180
    with tempfile.TemporaryDirectory() as tmp:
        app = launch(
            Path(tmp) / "data",
            env={**ADMIN_ENV, "LOG_LEVEL": "WARNING", "WORKERS_DEFAULT": "4", "PATH": "/usr/bin:/bin"},
        )
        try:
            http = app.http
            http.headers.update(app.login())
            template = {"type": "command", "command": "true"}
            ids = [
                http.post(
                    f"{API}/job-schedulers",
                    json={
                        "name": f"repeat {i}",
                        "trigger_type": "repeat",
                        "repeat_every_seconds": 1,
                        "overlap_policy": "queue",
                        "job_template": template,
                    },
                ).json()["id"]
                for i in range(20)
            ]
            ids += [
                http.post(
                    f"{API}/job-schedulers",
                    json={
                        "name": f"cron {i}",
                        "trigger_type": "cron",
                        "cron": "* * * * *",
                        "overlap_policy": "queue",
                        "job_template": template,
                    },
                ).json()["id"]
                for i in range(5)
            ]
            started = time.time()
            time.sleep(seconds)
            for scheduler_id in ids:
                http.post(f"{API}/job-schedulers/{scheduler_id}/toggle")
            elapsed = time.time() - started
            time.sleep(3)  # let the last runs finish
            report(http, ids, elapsed)
        finally:
            app.stop()


def report(http: httpx.Client, ids: list[int], elapsed: float) -> None:
    created_drift, start_drift, counts = [], [], {}
    for scheduler_id in ids:
        jobs = http.get(f"{API}/job-schedulers/{scheduler_id}/jobs", params={"limit": 500}).json()["items"]
        counts[scheduler_id] = len(jobs)
        for summary in jobs:
            job = http.get(f"{API}/jobs/{summary['id']}").json()
            planned = datetime.fromisoformat(job["meta"]["scheduled_for"])
            created_drift.append((datetime.fromisoformat(job["created_at"]) - planned).total_seconds() * 1000)
            if job["started_at"]:
                start_drift.append((datetime.fromisoformat(job["started_at"]) - planned).total_seconds() * 1000)
    repeat_counts, cron_counts = list(counts.values())[:20], list(counts.values())[20:]
    print(
        f"ran {elapsed:.0f} s; repeat every 1 s: expected ~{elapsed:.0f} each, got min {min(repeat_counts)} "
        f"max {max(repeat_counts)}; cron every minute: expected ~{elapsed / 60:.0f} each, got {cron_counts}"
    )
    print(
        f"drift planned -> job created: p50 {statistics.median(created_drift):.1f} ms, "
        f"p99 {_pct(created_drift, 0.99):.1f} ms over {len(created_drift)} runs"
    )
    print(
        f"drift planned -> job started: p50 {statistics.median(start_drift):.1f} ms, "
        f"p99 {_pct(start_drift, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
