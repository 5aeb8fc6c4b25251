"""What the official `openai` and `anthropic` SDKs would cost against the httpx client we ship
(vcore_app/llm/client.py): download size, installed size, import time, one-file binary size and start.

It builds a throwaway venv (with httpx, pydantic and pyinstaller), measures, then adds the SDKs and
measures again; figures are printed as ratios against plain httpx. Needs network or a package index.
Run: python3 bench/llm_sdk_cost.py [--runs 5] [--no-binary]

Measured 2026-11-27 on the 2-core CI machine kind, loaded by other jobs (ratios are steadier than ms):
  pip download (with dependencies): openai 3.57 6.1 MB, anthropic 2.14 6.4 MB (the SDK wheels alone
    2.5 and 2.7 MB); packages new to us: the two SDKs, httpx2, httpcore2, jiter, sniffio,
    docstring_parser, opentelemetry-api
  installed: +39 MB of files (+71 MB on disk by `du`) over httpx + pydantic
  import: httpx 0.55 s; openai 3.7-4.2 s (x7); anthropic 8.4-21 s (x15-38)
  one-file binary of `import httpx, pydantic` 22.9 MB, 2.2-2.8 s to run; with both SDKs 30.4 MB
    (+7.5 MB), 17-21 s to run (the extra modules unpacked and imported at every start)
Decision: plain httpx. Two JSON endpoints and an SSE reader are ~300 lines of ours; the SDKs would be
imported lazily anyway, but would still grow the binary and the install for every user.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(*argv: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(part) for part in argv], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def _size_mb(path: Path) -> float:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file()) / 1e6


def _import_s(python: Path, module: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return statistics.median(float(subprocess.check_output([str(python), "-c", code], text=True)) for _ in range(runs))


def _binary(venv: Path, work: Path, name: str, imports: str, runs: int) -> tuple[float, float]:
    source = work / f"{name}.py"
    source.write_text(f"import {imports}\n")
    _run(
        venv / "bin" / "pyinstaller",
        "-F",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        work / "dist",
        "--workpath",
        work / f"build-{name}",
        "--specpath",
        work,
        source,
        cwd=work,
    )
    binary = work / "dist" / name
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _run(binary)
        times.append(time.perf_counter() - started)
    return binary.stat().st_size / 1e6, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-binary", action="store_true", help="skip the PyInstaller builds (minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llm-sdk-cost-") as folder:
        work = Path(folder)
        venv = work / "venv"
        _run(sys.executable, "-m", "venv", venv)
        pip, python = venv / "bin" / "pip", venv / "bin" / "python"
        _run(pip, "install", "-q", "httpx", "pydantic", *(() if args.no_binary else ("pyinstaller",)))
        for sdk in ("openai", "anthropic"):
            _run(pip, "download", "-q", sdk, "-d", work / f"dl-{sdk}")
            print(f"pip download {sdk} (with dependencies): {_size_mb(work / f'dl-{sdk}'):.1f} MB")
        site = next((venv / "lib").glob("python3*/site-packages"))
        base_mb = _size_mb(site)
        base_import = _import_s(python, "httpx", args.runs)
        base_bin = None if args.no_binary else _binary(venv, work, "plain", "httpx, pydantic", args.runs)
        _run(pip, "install", "-q", "openai", "anthropic")
        print(f"installed: +{_size_mb(site) - base_mb:.1f} MB over httpx + pydantic ({base_mb:.1f} MB)")
        for module in ("openai", "anthropic"):
            seconds = _import_s(python, module, args.runs)
            print(
                f"import {module}: {seconds:.2f} s = {seconds / base_import:.1f} x import httpx ({base_import:.2f} s)"
            )
        if base_bin is not None:
            sdk_bin = _binary(venv, work, "sdks", "httpx, pydantic, openai, anthropic", args.runs)
            print(
                f"one-file binary: {base_bin[0]:.1f} MB -> {sdk_bin[0]:.1f} MB (+{sdk_bin[0] - base_bin[0]:.1f} MB); "
                f"run {base_bin[1]:.2f} s -> {sdk_bin[1]:.2f} s ({sdk_bin[1] / base_bin[1]:.1f} x)"
            )


if __name__ == "__main__":
    main()
