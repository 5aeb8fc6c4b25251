"""Startup benchmark: exec -> first /healthz 200, and RSS after 5 s idle; median of 5 runs.

Targets (for later): start <= 1 s from source, idle RSS <= 100 MB.
Run: .venv/bin/python bench/startup.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from support import launch


def one_run(data_dir: Path) -> tuple[float, float]:
    app = launch(data_dir)
    try:
        time.sleep(5)
        return app.started_in, psutil.Process(app.proc.pid).memory_info().rss / 2**20
    finally:
        app.stop()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        first = one_run(Path(tmp) / "first")  # the very first start also creates and migrates the database
        results = [one_run(Path(tmp) / "data") for _ in range(runs)]
    starts = [s for s, _ in results]
    rss = [r for _, r in results]
    print(f"first start (creates the database): {first[0] * 1000:.0f} ms")
    print(
        f"exec -> /healthz 200: median {statistics.median(starts) * 1000:.0f} ms "
        f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}) over {runs} runs; target <= 1000 ms"
    )
    print(f"RSS after 5 s idle: median {statistics.median(rss):.1f} MB; target <= 100 MB")


if __name__ == "__main__":
    main()
