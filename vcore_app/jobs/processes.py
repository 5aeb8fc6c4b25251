"""A job's processes: start them in their own session, find all of them, end all of them.

`p.kill()` on `sh -c` leaves its children running and the output pipe open (the reader then hangs), so
a job owns a process group: SIGTERM, a grace period, then SIGKILL. A process can leave the group
(`setsid`, a double fork, a daemonizing tool), so the group is not enough:

- every process of a job carries `VCORE_JOB_MARK=<boot id>:<job id>` in its environment (children
  inherit it), so it can be found wherever it went, also by the next start after a crash;
- the server is a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`, launcher.py): an orphan is
  reparented to us, not to PID 1, so while we run every process a job started is our descendant
  (cheap to list), and we reap the orphans (`reap_orphans`, a thread) so no zombies pile up.

When the main process of a job ends by itself, what is left of the job ends too (like systemd's
KillMode=control-group): no process outlives the job's record or holds its log pipe open. A
process that both empties its environment and leaves the group is found only while it is our
descendant, i.e. not after a crash of the server.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO

import psutil
from loguru import logger

from vcore_app.private import user_umask
from vcore_app.settings import Settings

_POLL_SECONDS = 0.05
_KILL_SECONDS = 5.0  # after SIGKILL, how long we keep finding and killing what is left
_REAP_SECONDS = 0.5
_PR_SET_CHILD_SUBREAPER = 36
MARK_ENV = "VCORE_JOB_MARK"
_spawned: set[int] = set()  # pids of our Popen children: their Popen waits for them, not the reaper
_spawn_lock = threading.Lock()
_subreaper = False
# Whether this kernel lists children in /proc (CONFIG_PROC_CHILDREN, on in common distributions).
_PROC_CHILDREN = os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")
# Our own secrets never reach a job's environment, even when they were given as env vars. DB_URL may
# hold the PostgreSQL password (issue 20): a script job's child, our own code, gets it from the runner.
_PRIVATE_ENV = (*(name for name in Settings.model_fields if "SECRET" in name or "PASSWORD" in name), "DB_URL")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key.upper() not in _PRIVATE_ENV}
    env.update(extra or {})
    return env


def job_mark(boot_id: str, job_id: int) -> str:
    """Unique per server start and job: two instances on one machine never match each other's."""
    return f"{boot_id}:{job_id}"


def spawn(
    argv: Sequence[str], *, cwd: str | None, env: Mapping[str, str], stdin: bool, mark: str
) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new session (its pid is the process group id), marked as the
    job's. Call `release(proc)` once `proc.wait()` returned."""
    with _spawn_lock:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd or None,
            env={**env, MARK_ENV: mark},
            start_new_session=True,
            bufsize=0,
            umask=user_umask(),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        _spawned.add(proc.pid)
    return proc


def release(proc: subprocess.Popen[bytes]) -> None:
    """`proc` has been waited for: from now on its pid is an orphan's business (reap_orphans)."""
    with _spawn_lock:
        _spawned.discard(proc.pid)


def feed(stream: IO[bytes], data: bytes) -> None:
    """Write stdin from a thread: a child that does not read must not block the worker."""

    def write() -> None:
        try:
            stream.write(data)
            stream.close()
        except OSError:
            pass  # the child exited without reading its input; its exit code tells the story

    threading.Thread(target=write, name="job-stdin", daemon=True).start()


def job_processes(
    pgid: int, mark: str, *, since: float | None = None, everywhere: bool = False
) -> list[psutil.Process]:
    """The live processes of a job: its process group, and every process carrying its mark.

    While we are a subreaper every process a job ever started is one of our descendants, however
    it left the group (setsid, double fork), so only those are looked at; otherwise, and after a
    crash (`everywhere`, the leftovers belong to a dead process), every process of the machine.
    Zombies do not count: they have ended and only wait for a reaper. A process started before
    `since` (the job's start, a Unix time) cannot be the job's (its group leader started then).
    """
    found = []
    for proc in psutil.process_iter() if everywhere or not _subreaper else _descendants():
        try:
            # Cheapest first: psutil knows the start time already (it identifies a process by it).
            if (since is not None and proc.create_time() < since - 1) or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if os.getpgid(proc.pid) == pgid or _marked(proc, mark):
                found.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def end_job(pgid: int, mark: str, grace: float, *, since: float | None = None, everywhere: bool = False) -> bool:
    """SIGTERM every process of the job, SIGKILL what is left after `grace` seconds (also what
    appeared meanwhile); True once none is left. Processes are signalled through psutil, which
    checks their start time first: a pid reused meanwhile is not hit."""
    deadline = time.monotonic() + grace
    termed: set[int] = set()
    if grace > 0:
        _signal_group(pgid, signal.SIGTERM)
    while (procs := job_processes(pgid, mark, since=since, everywhere=everywhere)) and time.monotonic() < deadline:
        for proc in procs:  # also those started after the first round
            if proc.pid not in termed:
                termed.add(proc.pid)
                _send(proc, signal.SIGTERM)
        _pause()
    deadline = time.monotonic() + _KILL_SECONDS
    while procs and time.monotonic() < deadline:
        _signal_group(pgid, signal.SIGKILL)
        for proc in procs:
            _send(proc, signal.SIGKILL)
        _pause()
        procs = job_processes(pgid, mark, since=since, everywhere=everywhere)
    return not procs


def end_leftovers(pid: int | None, started_at: datetime | None, mark: str) -> bool:
    """At start after a crash: end what a dead server left of a job, True if anything was found.

    Its group only if `pid` still names the process the job started (a pid can be reused after a
    reboot: the start time must match); its marked processes wherever they are.
    """
    pgid = -1  # matches no process group
    if pid:
        try:
            proc = psutil.Process(pid)
            if (
                started_at is not None
                and abs(proc.create_time() - started_at.timestamp()) < 5
                and os.getpgid(pid) == pid
            ):
                pgid = pid
        except (psutil.Error, ProcessLookupError):
            pass
    since = started_at.timestamp() if started_at is not None else None
    if not job_processes(pgid, mark, since=since, everywhere=True):
        return False
    end_job(pgid, mark, grace=0, since=since, everywhere=True)
    return True


# -- being a subreaper ----------------------------------------------------------------------------


def become_subreaper() -> bool:
    """Linux: orphans of our descendants are reparented to us instead of to PID 1, so a job's
    daemons stay findable, and it is up to us to reap them (`reap_orphans`)."""
    global _subreaper
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _subreaper = False
    return _subreaper


def reap_orphans() -> int:
    """Collect the exit status of orphans reparented to us; children we spawned are left to their
    Popen (reaping them here would make Popen report exit code 0 for them)."""
    reaped = 0
    with _spawn_lock:
        for child in _children_of(os.getpid()) if _PROC_CHILDREN else [p.pid for p in psutil.Process().children()]:
            if child in _spawned:
                continue
            try:
                pid, _ = os.waitpid(child, os.WNOHANG)
            except ChildProcessError:
                continue
            reaped += pid != 0
    return reaped


def start_reaper() -> threading.Thread:
    def loop() -> None:
        while True:
            try:
                reap_orphans()
            except Exception:
                logger.exception("reaping orphaned processes failed")
            time.sleep(_REAP_SECONDS)

    thread = threading.Thread(target=loop, name="reaper", daemon=True)
    thread.start()
    return thread


def _descendants() -> list[psutil.Process]:
    """Our descendants. Linux lists a process's children in /proc/PID/task/TID/children: reading
    those costs per descendant, while psutil's children() reads the stat file of every process on
    the machine (measured: ~100 ms on a loaded box, paid at the end of every job)."""
    if not _PROC_CHILDREN:
        return psutil.Process().children(recursive=True)
    found: list[psutil.Process] = []
    todo = [os.getpid()]
    while todo:
        for pid in _children_of(todo.pop()):
            try:
                found.append(psutil.Process(pid))
            except psutil.Error:
                continue  # gone meanwhile
            todo.append(pid)
    return found


def _children_of(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as listing:
                children.extend(int(child) for child in listing.read().split())
        except OSError:
            continue  # the thread or the process ended meanwhile
    return children


def _marked(proc: psutil.Process, mark: str) -> bool:
    try:
        return bool(proc.environ().get(MARK_ENV) == mark)
    except (psutil.Error, OSError):
        return False  # gone, or not ours to read


def _send(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.Error):
        proc.send_signal(sig)


def _pause() -> None:
    if _subreaper:
        reap_orphans()
    time.sleep(_POLL_SECONDS)


def _signal_group(pgid: int, sig: int) -> None:
    if pgid <= 0:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
