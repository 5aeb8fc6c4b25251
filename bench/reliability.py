"""Reliability battery, short version (issue 19): faults tried on the real app, figures into
docs/reliability.md.

- kill -9 cycles while jobs are created and run: acknowledged, lost (must be 0), run twice (0),
  left running after the last start (0), orphan processes (0), integrity;
- a full data disk (a small tmpfs a job fills; needs root, else reported as skipped): 507s, how long
  until the job's outcome is recorded and /healthz is ok again after space returns, integrity;
- the database write-locked by another process for a few seconds: all writers answered 201;
- clock jumps: tests/test_scheduler_clock_jumps.py, pass or fail.

Not yet here (issue 19 asks for them): the 10-minute soak with 50 API and 20 WebSocket clients, and a
read transaction held open for 5 minutes.

Run: `make reliability` (or `.venv/bin/python bench/reliability.py [--cycles N]`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from support import ADMIN_ENV, clean_env, launch, wait_for

_HOLD_LOCK = (
    "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')"
)
ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "reliability.md"
FINAL = ("done", "failed", "cancelled")
Row = tuple[str, str, str]  # fault, figures, verdict


def integrity(data: Path) -> bool:
    names = ("vcore.sqlite3", "huey_default.sqlite3", "huey_reserved.sqlite3")
    return all(sqlite3.connect(data / name).execute("PRAGMA integrity_check").fetchone()[0] == "ok" for name in names)


def kill_cycles(cycles: int) -> Row:
    tag = f"RELIAB-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        data, runs = Path(tmp) / "data", Path(tmp) / "runs.txt"
        acknowledged: list[int] = []
        for _cycle in range(cycles):
            app = launch(data, env=clean_env(WORKERS_DEFAULT="2", **ADMIN_ENV))
            auth = app.login()
            for number in range(12):
                token = f"{tag}-{len(acknowledged)}-{number}"
                answer = app.http.post(
                    "/api/v1/jobs",
                    json={"type": "command", "command": f"echo {token} >> {runs}; sleep 0.2 # {tag}"},
                    headers=auth,
                )
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])
            app.proc.send_signal(signal.SIGKILL)
            app.proc.wait()
        app = launch(data, env=clean_env(WORKERS_DEFAULT="2", **ADMIN_ENV))
        auth = app.login()

        def statuses() -> dict[int, str | None]:
            found = {}
            for job_id in acknowledged:
                answer = app.http.get(f"/api/v1/jobs/{job_id}", headers=auth)
                found[job_id] = answer.json()["status"] if answer.status_code == 200 else None
            return found

        with contextlib.suppress(SystemExit):  # what is still not final after 2 minutes is counted below
            wait_for(lambda: all(status in FINAL for status in statuses().values() if status), 120)
        final = statuses()
        app.stop()
        lost = sum(status is None for status in final.values())
        stuck = sum(status is not None and status not in FINAL for status in final.values())
        lines = runs.read_text().split() if runs.exists() else []
        twice = len(lines) - len(set(lines))
        orphans = sum(tag in " ".join(process.info["cmdline"] or []) for process in psutil.process_iter(["cmdline"]))
        ok = integrity(data)
    figures = (
        f"{cycles} cycles, {len(acknowledged)} acknowledged, {lost} lost, {twice} run twice, "
        f"{stuck} not finished, {orphans} orphan processes, integrity {'ok' if ok else 'FAILED'}"
    )
    return "kill -9 while jobs run", figures, _verdict(lost == twice == stuck == orphans == 0 and ok)


def disk_full() -> Row:
    if os.geteuid() != 0:
        return "full data disk", "skipped: mounting a tmpfs needs root", "skipped"
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk"
        disk.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True)
        try:
            return _disk_full_on(disk / "data")
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=True)


def _disk_full_on(data: Path) -> Row:
    app = launch(data, env=clean_env(DISK_MIN_FREE_MB="1", DISK_LOW_WARNING_MB="3", **ADMIN_ENV))
    try:
        auth = app.login()
        sqlite3.connect(data / "vcore.sqlite3").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        began = time.monotonic()
        filling = app.http.post(
            "/api/v1/jobs",
            json={"type": "command", "command": f"head -c 16M /dev/zero > {data}/filler; exit 3"},
            headers=auth,
        ).json()["id"]
        wait_for(lambda: app.http.get("/healthz").json()["status"] == "degraded", 30)
        degraded_in = time.monotonic() - began
        codes = [
            app.http.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth).status_code
            for _ in range(20)
        ]
        ready = app.http.get("/readyz").status_code
        time.sleep(2)  # full for a while: the job ended meanwhile
        (data / "filler").unlink()
        freed = time.monotonic()

        def status() -> str:
            return str(app.http.get(f"/api/v1/jobs/{filling}", headers=auth).json()["status"])

        ended = wait_for(lambda: (found := status()) in FINAL and found, 60)
        recorded = time.monotonic() - freed
        wait_for(lambda: app.http.get("/healthz").json()["status"] == "ok", 60)
        healthy = time.monotonic() - freed
        again = app.http.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth)
    finally:
        app.stop()
    ok = integrity(data)
    figures = (
        f"degraded {degraded_in:.1f} s after the job started; {codes.count(507)}/{len(codes)} creates answered 507; "
        f"/readyz {ready}; the filling job `{ended}` {recorded:.1f} s and /healthz ok {healthy:.1f} s "
        f"after space returned; new job {again.status_code}; integrity {'ok' if ok else 'FAILED'}"
    )
    return "full data disk (8 MB tmpfs)", figures, _verdict(codes.count(507) == len(codes) and ready == 503 and ok)


def locked_database(seconds: float = 4.0) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        app = launch(data, env=clean_env(**ADMIN_ENV))
        try:
            auth = app.login()
            holder = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _HOLD_LOCK,
                    str(data / "vcore.sqlite3"),
                    str(seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

            def create(_: int) -> tuple[int, float]:
                began = time.monotonic()
                answer = app.http.post("/api/v1/jobs", json={"type": "command", "command": "true"}, headers=auth)
                return answer.status_code, time.monotonic() - began

            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(create, range(8)))
            holder.wait(30)
        finally:
            app.stop()
    codes = [code for code, _ in answers]
    slowest = max(took for _, took in answers)
    figures = f"locked {seconds:g} s: {codes.count(201)}/{len(codes)} creates answered 201, slowest {slowest:.1f} s"
    return "database write-locked by another process", figures, _verdict(codes.count(201) == len(codes))


def clock_jumps() -> Row:
    began = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "tests/test_scheduler_clock_jumps.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    summary = (result.stdout.strip().splitlines() or ["no output"])[-1]
    return (
        "wall clock back 1 h, forward 1 day",
        f"{summary} ({time.monotonic() - began:.0f} s)",
        _verdict(result.returncode == 0),
    )


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5, help="kill -9 cycles (issue 19's full battery: 20)")
    args = parser.parse_args()
    rows = [kill_cycles(args.cycles), disk_full(), locked_database(), clock_jumps()]
    table = ["| Fault | Figures | Verdict |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    REPORT.write_text(
        "# Reliability figures\n\n"
        f"Written by `make reliability` (bench/reliability.py) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
        " "
        f"{os.cpu_count()} cores. What each row does: the docstring of bench/reliability.py.\n\n"
        + "\n".join(table)
        + "\n"
    )
    print("\n".join(table))
    print(f"written to {REPORT.relative_to(ROOT)}")
    if any(verdict == "FAIL" for _, _, verdict in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
