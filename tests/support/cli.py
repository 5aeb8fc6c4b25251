"""Running `vcore-app` from the command line as a user does, and a recording browser to start it with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.apps import app_env


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m vcore_app ARGS` to its end, with its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "vcore_app", *args],
        capture_output=True,
        text=True,
        env=env or app_env(),
        cwd=cwd,
        timeout=60,
    )


def recording_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An env with BROWSER set to a script that appends each URL it is given to a file.

    Python's webbrowser honours BROWSER, so the app "opens" its URL into that file."""
    urls = tmp_path / "browser-urls.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{urls}"\nenv > "{tmp_path}/browser-env.txt"\n')
    script.chmod(0o755)
    return {"BROWSER": str(script)}, urls


def opened_urls(urls: Path) -> list[str]:
    return urls.read_text().split() if urls.exists() else []
