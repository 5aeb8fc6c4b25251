"""Reliability battery, short version (issue 19): faults tried on the real app, figures into
docs/reliability.md.

- kill -9 cycles while jobs are created and run: acknowledged, lost (must be 0), run twice (0),
  left running after the last start (0), orphan processes (0), integrity;
- a full data disk (a small tmpfs a job fills; needs root, else reported as skipped): 507s, how long
  until the job's outcome is recorded and /healthz is ok again after space returns, integrity;
- the database write-locked by another process for a few seconds: all writers answered 201;
- clock jumps: tests/test_scheduler_clock_jumps.py, pass or fail;
- soak: 50 API clients (each asks for the job list or one job, creates a `true` job every
  CREATE_EVERY requests, pauses THINK_SECONDS between requests) and 20 WebSocket clients for
  --soak-seconds: requests, error rate (< 0.1%), p99 latency as the bench process sees it (its threads
  share two cores with the app), WebSocket events missed (every job created must reach every
  WebSocket client in its final state, by its own change or in a snapshot: the hub coalesces a job's
  unsent changes, so final states are counted, not each step), RSS after a WARM_UP_SECONDS warm-up and
  at the end, the largest WAL;
- a read transaction held open by another process (BEGIN; SELECT; then nothing) for --reader-seconds
  while 10 API clients run: error rate, p99, the WAL during, some seconds after the reader ended
  (load still on), and after housekeeping's TRUNCATE checkpoint (POST /api/v1/housekeeping).

RSS growth bound (RSS_GROWTH_BOUND_MB): what the app holds grows with its caches up to their caps
(SQLite's page cache per pooled connection, the hub's snapshot, Python's arenas), which the warm-up
mostly fills (the short soak grew 8 MB past it); 64 MB is well above that churn and below what a leak
of 2 KB per request leaves after the full 10-minute soak (about 60 requests a second on the 2-core
machine: 36,000 requests, 70 MB). The short soak's 3,700 requests catch only a leak ten times larger.

SQLite cannot checkpoint past an open reader: while it reads, every commit grows the WAL. Once it
ends, the next automatic checkpoint copies the WAL back and later commits reuse the file from its
start (within a few commits, once none of the app's own readers is inside it), so it stops growing,
but the file keeps its size until a TRUNCATE checkpoint: housekeeping's (at start, daily, or on
demand). The row says how big it got and what each step gave back.

Run: `make reliability` (the short version CI runs: 5 kill -9 cycles, a 60 s soak, a 30 s reader;
about four minutes) or `make reliability SOAK=600 CYCLES=20` (issue 19's full battery: a 10-minute
soak, a 5-minute reader), which run `.venv/bin/python bench/reliability.py --cycles N --soak-seconds S`;
the script's own defaults are the full battery's soak.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from support import ADMIN_ENV, App, clean_env, launch, wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

_HOLD_LOCK = (
    "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')"
)
_HOLD_READ = (
    "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN'); "
    "c.execute('SELECT count(*) FROM job').fetchone(); print('reading', flush=True); time.sleep(float(sys.argv[2])); "
    "c.execute('COMMIT')"
)
SOAK_API_CLIENTS = 50
SOAK_WS_CLIENTS = 20
READER_API_CLIENTS = 10
THINK_SECONDS = 0.2
CREATE_EVERY = 20
WARM_UP_SECONDS = 10.0
WAL_SAMPLE_SECONDS = 0.2
AFTER_READER_SECONDS = 5.0
ERROR_RATE_BOUND = 0.001
RSS_GROWTH_BOUND_MB = 64
WAL_AFTER_HOUSEKEEPING_BOUND = 1024 * 1024
# What the WAL reaches with no reader in the way: SQLite checkpoints it at 1,000 pages (4 MB), and the
# commit that crosses the mark adds a few more pages first.
WAL_WITHOUT_READER_BOUND = 5 * 1024 * 1024
# Once the reader is gone, commits go back to the WAL's start only at a moment when none of the app's
# own readers is inside it: under load, a few more commits append first.
WAL_RESTART_SLACK = 1024 * 1024
_MB = 1024 * 1024
FULL_CYCLES = 20
FULL_SOAK_SECONDS = 600.0
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


class Load:
    """API clients against a running app until stopped, each in its own thread and connection: the job
    list or one job, a new `true` job every CREATE_EVERY requests, THINK_SECONDS between requests."""

    def __init__(self, app: App, auth: dict[str, str], clients: int) -> None:
        self._app, self._auth = app, auth
        self.latencies: list[float] = []
        self.errors = 0
        self.created: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def summary(self) -> str:
        return f"{len(self.latencies)} requests, {self.error_rate:.3%} errors, p99 {self.p99 * 1000:.0f} ms"

    @property
    def error_rate(self) -> float:
        return self.errors / max(len(self.latencies), 1)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] if len(self.latencies) > 1 else 0.0

    def _client(self) -> None:
        with httpx.Client(base_url=self._app.url, headers=self._auth, timeout=30) as http:
            number, last = 0, None
            while not self._stop.is_set():
                began = time.perf_counter()
                try:
                    answer = self._request(http, number, last)
                    ok = answer.is_success
                except httpx.HTTPError:
                    answer, ok = None, False
                took = time.perf_counter() - began
                if answer is not None and ok and answer.request.method == "POST":
                    last = answer.json()["id"]
                    self.created.append(last)
                with self._lock:
                    self.latencies.append(took)
                    self.errors += not ok
                number += 1
                self._stop.wait(THINK_SECONDS)

    @staticmethod
    def _request(http: httpx.Client, number: int, last: int | None) -> httpx.Response:
        if number % CREATE_EVERY == 0:
            return http.post("/api/v1/jobs", json={"type": "command", "command": "true"})
        if number % 2 and last is not None:
            return http.get(f"/api/v1/jobs/{last}")
        return http.get("/api/v1/jobs", params={"limit": 20})


class Watcher:
    """One WebSocket client until stopped: the jobs it saw in a final state, by their own change or
    in a snapshot, and how often its socket closed under it (it then connects again)."""

    def __init__(self, app: App, auth: dict[str, str]) -> None:
        token = auth["Authorization"].split()[1]
        self._url = f"{app.url.replace('http', 'ws', 1)}/api/v1/ws/job-queue?token={token}"
        self.final: set[int] = set()
        self.connected = threading.Event()
        self.closed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self._url, proxy=None, open_timeout=30, max_size=None) as ws:
                    self.connected.set()
                    while not self._stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            self._note(json.loads(ws.recv(timeout=0.5)))
            except (ConnectionClosed, OSError):
                self.closed += 1

    def _note(self, message: dict[str, object]) -> None:
        jobs = message.get("jobs") or [message.get("job")]
        for job in jobs if isinstance(jobs, list) else ():
            if isinstance(job, dict) and job.get("status") in FINAL:
                self.final.add(job["id"])


class WalWatch:
    """The size of a database's WAL file, sampled in a thread: `largest` since the last `reset()`."""

    def __init__(self, database: Path) -> None:
        self._wal = database.with_name(database.name + "-wal")
        self.largest = 0
        self.overall = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def size(self) -> int:
        return self._wal.stat().st_size if self._wal.exists() else 0

    def reset(self) -> None:
        self.largest = 0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _sample(self) -> None:
        while not self._stop.wait(WAL_SAMPLE_SECONDS):
            size = self.size()
            self.largest, self.overall = max(self.largest, size), max(self.overall, size)


def soak(seconds: float) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        app = launch(data, env=clean_env(**ADMIN_ENV))
        try:
            auth = app.login()
            watchers = [Watcher(app, auth) for _ in range(SOAK_WS_CLIENTS)]
            wait_for(lambda: all(watcher.connected.is_set() for watcher in watchers), 60)
            wal = WalWatch(data / "vcore.sqlite3")
            load = Load(app, auth, SOAK_API_CLIENTS)
            load.start()
            warm_up = min(WARM_UP_SECONDS, seconds / 2)
            time.sleep(warm_up)
            rss_start = _rss(app)
            time.sleep(seconds - warm_up)
            load.stop()
            rss_end = _rss(app)
            _wait_all_final(app, auth)
            created = set(load.created)
            with contextlib.suppress(SystemExit):  # what has not arrived after a minute is counted as missed
                wait_for(lambda: all(created <= watcher.final for watcher in watchers), 60)
            for watcher in watchers:
                watcher.stop()
            wal.stop()
        finally:
            app.stop()
    missed = sum(len(created - watcher.final) for watcher in watchers)
    closed = sum(watcher.closed for watcher in watchers)
    growth = (rss_end - rss_start) / _MB
    figures = (
        f"{seconds:g} s, {SOAK_API_CLIENTS} API + {SOAK_WS_CLIENTS} WebSocket clients: {load.summary()}; "
        f"{len(created)} jobs, {missed} final states missed of {len(created) * len(watchers)}, "
        f"{closed} sockets closed; RSS {rss_start / _MB:.0f} MB after {warm_up:g} s, "
        f"{rss_end / _MB:.0f} MB at the end (bound +{RSS_GROWTH_BOUND_MB} MB); largest WAL {wal.overall / _MB:.1f} MB"
    )
    passed = load.error_rate < ERROR_RATE_BOUND and missed == 0 and growth < RSS_GROWTH_BOUND_MB
    return f"soak ({seconds / 60:g} min)", figures, _verdict(passed)


def held_reader(seconds: float) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        database = data / "vcore.sqlite3"
        app = launch(data, env=clean_env(**ADMIN_ENV))
        try:
            auth = app.login()
            wal = WalWatch(database)
            load = Load(app, auth, READER_API_CLIENTS)
            load.start()
            reader = subprocess.Popen(
                [sys.executable, "-c", _HOLD_READ, str(database), str(seconds)], stdout=subprocess.PIPE, text=True
            )
            assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
            reader.wait(seconds + 60)
            during, at_end = wal.largest, wal.size()
            wal.reset()
            time.sleep(AFTER_READER_SECONDS)  # load still on: the WAL stops growing
            after = wal.largest
            load.stop()
            wal.stop()
            app.http.post("/api/v1/housekeeping", headers=auth).raise_for_status()
            with contextlib.suppress(SystemExit):  # the figure says what it came to
                wait_for(lambda: wal.size() <= WAL_AFTER_HOUSEKEEPING_BOUND, 30)
            cleaned = wal.size()
        finally:
            app.stop()
    figures = (
        f"reader open {seconds:g} s, {READER_API_CLIENTS} API clients: {load.summary()}; WAL largest "
        f"{during / _MB:.1f} MB while it read ({at_end / _MB:.1f} MB as it ended), largest "
        f"{after / _MB:.1f} MB in the {AFTER_READER_SECONDS:g} s after (bound: {WAL_RESTART_SLACK / _MB:g} MB over its "
        f"size as the reader ended, or {WAL_WITHOUT_READER_BOUND / _MB:g} MB, what it reaches with no reader); "
        f"the file keeps that size until a TRUNCATE checkpoint: {cleaned / _MB:.2f} MB after housekeeping's"
    )
    bounded = after <= max(at_end + WAL_RESTART_SLACK, WAL_WITHOUT_READER_BOUND)
    passed = load.error_rate < ERROR_RATE_BOUND and bounded and cleaned <= WAL_AFTER_HOUSEKEEPING_BOUND
    return f"read transaction held by another process ({seconds / 60:g} min)", figures, _verdict(passed)


def _rss(app: App) -> int:
    return int(psutil.Process(app.proc.pid).memory_info().rss)


def _wait_all_final(app: App, auth: dict[str, str]) -> None:
    def unfinished() -> int:
        return sum(
            app.http.get("/api/v1/jobs", params={"status": status, "limit": 1}, headers=auth).json()["total"]
            for status in ("queued", "running")
        )

    wait_for(lambda: unfinished() == 0, 120, interval=0.5)


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value >= 10:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds of at least 10")
    return value


def _version(args: argparse.Namespace) -> str:
    if args.cycles >= FULL_CYCLES and args.soak_seconds >= FULL_SOAK_SECONDS:
        return "issue 19's full battery"
    return (
        "the short version CI runs (a 1-minute soak, a 30 s reader); the full battery, "
        f"`make reliability SOAK={FULL_SOAK_SECONDS:g} CYCLES={FULL_CYCLES}`, soaks 10 minutes and holds the reader 5"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cycles", type=int, default=5, help=f"kill -9 cycles (issue 19's full battery: {FULL_CYCLES})"
    )
    parser.add_argument(
        "--soak-seconds", type=_seconds, default=FULL_SOAK_SECONDS, help="length of the soak (the short version's: 60)"
    )
    parser.add_argument(
        "--reader-seconds", type=_seconds, help="how long the reader holds its transaction (default: half the soak)"
    )
    args = parser.parse_args()
    reader_seconds = args.reader_seconds or args.soak_seconds / 2
    rows = [
        kill_cycles(args.cycles),
        disk_full(),
        locked_database(),
        clock_jumps(),
        soak(args.soak_seconds),
        held_reader(reader_seconds),
    ]
    table = ["| Fault | Figures | Verdict |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    REPORT.write_text(
        "# Reliability figures\n\n"
        f"Written by `make reliability` (bench/reliability.py) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
        " "
        f"{os.cpu_count()} cores, `--cycles {args.cycles} --soak-seconds {args.soak_seconds:g}`: {_version(args)}. "
        "What each row does: the docstring of bench/reliability.py.\n\n" + "\n".join(table) + "\n"
    )
    print("\n".join(table))
    print(f"written to {REPORT.relative_to(ROOT)}")
    if any(verdict == "FAIL" for _, _, verdict in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
