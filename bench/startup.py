"""Startup benchmark: exec -> first /healthz 200, and RSS after 5 s idle; median of 5 runs.

Targets (for later): start <= 1 s from source, idle RSS <= 100 MB.
Run: .venv/bin/python bench/startup.py [runs]
"""

from __future__ import annotations

import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(data_dir: Path) -> tuple[float, float]:
    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vcore_app", "--port", str(port), "--data-dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"app exited with {proc.returncode}")
            time.sleep(0.01)
        started = time.perf_counter() - start
        time.sleep(5)
        rss_mb = psutil.Process(proc.pid).memory_info().rss / 2**20
        return started, rss_mb
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        first = one_run(Path(tmp) / "first")  # the very first start also creates and migrates the database
        results = [one_run(Path(tmp) / "data") for _ in range(runs)]
    starts = [s for s, _ in results]
    rss = [r for _, r in results]
    print(f"first start (creates the database): {first[0] * 1000:.0f} ms")
    print(f"exec -> /healthz 200: median {statistics.median(starts) * 1000:.0f} ms "
          f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}) over {runs} runs; target <= 1000 ms")
    print(f"RSS after 5 s idle: median {statistics.median(rss):.1f} MB; target <= 100 MB")


if __name__ == "__main__":
    main()
