"""Worker nodes (issue 20): jobs/s of a burst with 1, 2 and 4 worker processes on PostgreSQL + Redis,
next to the single-process appliance on SQLite, as ratios against it. Run from the repo root:
`.venv/bin/python bench/cluster.py [--jobs 1000] [--rounds 3]` (needs Debian's postgresql and
redis-server; it starts throwaway servers with the tests' helpers, tests/support/).

Each figure: one web node (`serve --no-workers`) and N worker nodes (`vcore-app worker --workers 2`),
a fresh database, `POST /api/v1/jobs/batch` of `true` jobs, wall clock until all are done. The
baseline is `vcore-app serve` alone with 4 worker threads (as bench/throughput.py). Rounds are
interleaved so all share the machine's noise; min / median / max are printed. On one machine the
worker processes share its cores with the web node, PostgreSQL and Redis: the curve shows what the
design costs and where one box saturates, not what separate hosts would reach.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psutil
from support import ADMIN_ENV, SOURCE, App, clean_env, launch, spread, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.postgres import PostgresServer, start_server
from tests.support.redis_server import redis_server

TRUE = {"type": "command", "command": "true"}
SECRETS = {
    "JWT_ACCESS_SECRET_KEY": "bench-cluster-access-key-0123456789abcdef",
    "JWT_REFRESH_SECRET_KEY": "bench-cluster-refresh-key-0123456789abcdef",
}


def _burst(app: App, jobs: int) -> float:
    auth = app.login()
    started = time.perf_counter()
    for start in range(0, jobs, 1000):
        body = {"jobs": [TRUE] * min(1000, jobs - start)}
        app.http.post("/api/v1/jobs/batch", json=body, headers=auth, timeout=120).raise_for_status()

    def all_done() -> bool:
        response = app.http.get("/api/v1/jobs", params={"status": "done", "limit": 1}, headers=auth)
        return int(response.json()["total"]) == jobs

    wait_for(all_done, timeout=1800, interval=0.1)
    return jobs / (time.perf_counter() - started)


def _single(root: Path, jobs: int) -> float:
    app = launch(root, env=clean_env(**ADMIN_ENV, LOG_LEVEL="WARNING", WORKERS_DEFAULT="4"))
    try:
        return _burst(app, jobs)
    finally:
        app.stop()


def _cluster(root: Path, jobs: int, workers: int, postgres: PostgresServer, queue_url: str) -> float:
    import redis

    redis.Redis.from_url(queue_url).flushall()
    env = clean_env(**ADMIN_ENV, **SECRETS, LOG_LEVEL="WARNING", DB_URL=postgres.create_database(), QUEUE_URL=queue_url)
    web = launch(root / "web", program=(*SOURCE, "serve", "--no-workers"), env=env)
    nodes = []
    try:
        for index in range(workers):
            folder = root / f"worker{index}"
            folder.mkdir(parents=True)
            command = [*SOURCE, "worker", "--queue", "default", "--workers", "2", "--data-dir", str(folder)]
            nodes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        auth = web.login()

        def registered() -> bool:
            items = web.http.get("/api/v1/workers", headers=auth).json()["items"]
            return sum(1 for node in items if node["role"] == "worker" and node["alive"]) == workers

        wait_for(registered, timeout=300)
        return _burst(web, jobs)
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait(60)
        web.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counts = (1, 2, 4)
    rates: dict[str, list[float]] = {"single": [], **{f"{n} workers": [] for n in counts}}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        postgres = start_server()
        stack.callback(postgres.stop)
        queue_url = stack.enter_context(redis_server(Path(tmp) / "redis")).url
        for round_ in range(args.rounds):
            base = Path(tmp) / f"round-{round_}"
            rates["single"].append(_single(base / "single", args.jobs))
            for n in counts:
                rates[f"{n} workers"].append(_cluster(base / f"cluster-{n}", args.jobs, n, postgres, queue_url))
    print(f"machine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}; {args.jobs} `true` jobs per burst")
    print("| figure (min / median / max) | jobs/s | ratio to one process on SQLite |")
    print("|---|---|---|")
    for name, values in rates.items():
        ratios = [value / base for value, base in zip(values, rates["single"], strict=True)]
        label = "one process, SQLite (4 threads)" if name == "single" else f"web node + {name} (2 threads each)"
        print(f"| {label} | {spread(values)} | {spread(ratios, 2)} |")


if __name__ == "__main__":
    main()
