"""Child process groups: start a job's process in its own session, end the whole group.

`p.kill()` on `sh -c` leaves its children running and the output pipe open (the reader then hangs), so a
job owns a process group: SIGTERM to the group, a grace period, then SIGKILL. When the main process
of a job ends by itself, what is left of its group ends too (like systemd's KillMode=control-group):
no orphan outlives the job's record or holds its log pipe open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO

import psutil

from vcore_app.settings import Settings

_POLL_SECONDS = 0.05
# Our own secrets never reach a job's environment, even when they were given as env vars.
_PRIVATE_ENV = tuple(name for name in Settings.model_fields if "SECRET" in name or "PASSWORD" in name)


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key.upper() not in _PRIVATE_ENV}
    env.update(extra or {})
    return env


def spawn(argv: Sequence[str], *, cwd: str | None, env: Mapping[str, str], stdin: bool) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new session: its pid is the process group id."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd or None,
        env=dict(env),
        start_new_session=True,
        bufsize=0,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def feed(stream: IO[bytes], data: bytes) -> None:
    """Write stdin from a thread: a child that does not read must not block the worker."""

    def write() -> None:
        try:
            stream.write(data)
            stream.close()
        except OSError:
            pass  # the child exited without reading its input; its exit code tells the story

    threading.Thread(target=write, name="job-stdin", daemon=True).start()


def group_alive(pgid: int) -> bool:
    """True while a process of the group runs (zombies waiting for a reaper do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.info["pid"]) == pgid:
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False


def end_group(pgid: int, grace: float) -> None:
    """SIGTERM the whole group, SIGKILL what is left after `grace` seconds; return once it is gone."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(_POLL_SECONDS)
    _signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)


def end_orphan_group(pid: int, started_at: datetime | None) -> bool:
    """End the group a dead server left behind, if `pid` still names the process it started.

    A pid can be reused after a reboot; the process's start time must match the job's.
    """
    try:
        proc = psutil.Process(pid)
        same = started_at is not None and abs(proc.create_time() - started_at.timestamp()) < 5
        if not same or os.getpgid(pid) != pid:
            return False
    except (psutil.Error, ProcessLookupError):
        return False
    end_group(pid, grace=0)
    return True


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
