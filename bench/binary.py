"""Binary benchmark: build time, size, exec -> first /healthz 200, idle RSS of the whole process tree.

Start time is the median of N warm starts, plus one start after dropping the page cache when the kernel
lets us (in a container it usually does not; the output says so). RSS is summed over the process tree
after 10 s idle: the one-file bootloader parent plus the Python child it starts.

Targets (issue 6): size <= 60 MB, start <= 3 s (one-file), idle RSS <= 100 MB.
Run: .venv/bin/python bench/binary.py [--variant onefile|onedir|both] [--runs 5] [--no-build]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from support import launch

REPO = Path(__file__).resolve().parent.parent
BINARIES = {"onefile": REPO / "dist" / "vcore-app", "onedir": REPO / "dist" / "vcore-app-onedir" / "vcore-app"}
TARGETS = {"size_mb": 60, "start_s": 3.0, "rss_mb": 100}
IDLE_SECONDS = 10


def build(variant: str) -> float:
    env = dict(os.environ, VCORE_ONEDIR="1" if variant == "onedir" else "0")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "ERROR", "vcore.spec"],
        cwd=REPO,
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def size_mb(variant: str) -> float:
    binary = BINARIES[variant]
    if variant == "onefile":
        return binary.stat().st_size / 2**20
    return sum(p.lstat().st_size for p in binary.parent.rglob("*")) / 2**20


def start(binary: Path, data_dir: Path) -> tuple[float, subprocess.Popen[bytes]]:
    """Exec the binary and return the seconds until /healthz answers 200, with the running process."""
    app = launch(data_dir, program=(str(binary),))
    app.http.close()
    return app.started_in, app.proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(15) != 0:
        raise SystemExit(f"exit code {proc.returncode} after SIGTERM")


def tree_rss_mb(pid: int) -> tuple[float, int]:
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs) / 2**20, len(procs)


def start_and_stop(binary: Path, data_dir: Path) -> float:
    seconds, proc = start(binary, data_dir)
    stop(proc)
    return seconds


def drop_page_cache() -> str | None:
    """Drop the page cache; return why not when we may not (containers, non-root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def measure(variant: str, runs: int, no_build: bool) -> None:
    binary = BINARIES[variant]
    build_s = None if no_build else build(variant)
    if not binary.exists():
        raise SystemExit(f"{binary} is missing: build it (`make binary`, VCORE_ONEDIR=1 for onedir)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        first_s = start_and_stop(binary, data)  # creates and migrates the database
        why_not = drop_page_cache()
        cold_s = None if why_not else start_and_stop(binary, data)
        warm = [start_and_stop(binary, data) for _ in range(runs)]
        _, proc = start(binary, data)
        time.sleep(IDLE_SECONDS)  # the figure asked for is RSS after 10 s idle
        rss, count = tree_rss_mb(proc.pid)
        stop(proc)
    report(variant, build_s, first_s, cold_s, why_not, warm, rss, count)


def report(
    variant: str,
    build_s: float | None,
    first_s: float,
    cold_s: float | None,
    why_not: str | None,
    warm: list[float],
    rss: float,
    processes: int,
) -> None:
    median = statistics.median(warm)
    size = size_mb(variant)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER TARGET"

    print(f"== {variant}: {BINARIES[variant].relative_to(REPO)}")
    print(f"build time (--clean): {'not built (--no-build)' if build_s is None else f'{build_s:.0f} s'}")
    if variant == "onefile":
        print(f"size: {size:.1f} MB; target <= {TARGETS['size_mb']} MB: {verdict(size <= TARGETS['size_mb'])}")
    else:
        print(f"size: {size:.1f} MB, uncompressed folder (the size target is for the one file)")
    print(f"first start (creates the database): {first_s * 1000:.0f} ms")
    print(
        f"exec -> /healthz 200, warm: median {median * 1000:.0f} ms (min {min(warm) * 1000:.0f}, "
        f"max {max(warm) * 1000:.0f}) over {len(warm)} runs; target <= {TARGETS['start_s']:.0f} s: "
        f"{verdict(median <= TARGETS['start_s'])}"
    )
    if cold_s is None:
        print(
            f"exec -> /healthz 200 after dropping the page cache: not measured, "
            f"/proc/sys/vm/drop_caches refused ({why_not}); likely a container"
        )
    else:
        print(f"exec -> /healthz 200 after dropping the page cache: {cold_s * 1000:.0f} ms")
    print(
        f"RSS after {IDLE_SECONDS} s idle, {processes} processes: {rss:.1f} MB; target <= {TARGETS['rss_mb']} MB: "
        f"{verdict(rss <= TARGETS['rss_mb'])}"
    )
    if variant == "onefile" and median > TARGETS["start_s"]:
        print(
            "one-file start is slow: it unpacks to /tmp at every start; try the one-folder build "
            "(VCORE_ONEDIR=1 make binary -> dist/vcore-app-onedir/)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["onefile", "onedir", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="measure the binaries already in dist/")
    args = parser.parse_args()
    # Start times swing with the load of a shared 2-core box: say what it was.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for variant in ["onefile", "onedir"] if args.variant == "both" else [args.variant]:
        measure(variant, args.runs, args.no_build)


if __name__ == "__main__":
    main()
