"""How one attempt of a job runs: one Executor subclass per job type (command, script, api_post).

An executor writes to the attempt's log and returns an Outcome; it must end soon after its Control
asks it to stop (kill, timeout, shutdown). `Outcome.permanent` says retrying cannot help (an
unknown script, invalid input, an HTTP 4xx), so the runner does not retry it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from vcore_app import outbound
from vcore_app.jobs import processes
from vcore_app.jobs.logs import JobLog
from vcore_app.models import Job, JobType
from vcore_app.paths import self_command
from vcore_app.scripts.child import ATTEMPT_ENV, JOB_ID_ENV
from vcore_app.settings import DATA_DIR_ENV

BODY_EXCERPT_BYTES = 64 * 1024
_READER_DRAIN_SECONDS = 2.0
# At shutdown the whole stop must fit in about 10 s (a service manager's stop timeout; launcher.py):
# a shorter grace than kill's.
SHUTDOWN_GRACE_SECONDS = 2.0


class Control:
    """Asks one running attempt to stop; the first reason wins ("killed", "timeout", "shutdown", "log_full")."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.wake = threading.Event()

    def stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.wake.set()


class Controls:
    """The attempts running in this process, by job id."""

    def __init__(self) -> None:
        self._controls: dict[int, Control] = {}
        self._lock = threading.Lock()

    def add(self, job_id: int) -> Control:
        control = Control()
        with self._lock:
            self._controls[job_id] = control
        return control

    def remove(self, job_id: int) -> None:
        with self._lock:
            self._controls.pop(job_id, None)

    def stop(self, job_id: int, reason: str) -> bool:
        with self._lock:
            control = self._controls.get(job_id)
        if control is not None:
            control.stop(reason)
        return control is not None

    def stop_all(self, reason: str) -> int:
        with self._lock:
            controls = list(self._controls.values())
        for control in controls:
            control.stop(reason)
        return len(controls)

    def running(self) -> set[int]:
        with self._lock:
            return set(self._controls)


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    error: str | None = None
    permanent: bool = False


@dataclass
class Attempt:
    """What an executor gets besides the job: its log, its control and where things are."""

    job: Job
    log: JobLog
    control: Control
    plugins_dir: Path
    data_dir: Path
    db_url: str  # the ledger a script's child process writes to (LLM usage, backups)
    kill_grace: float
    mark: str = ""  # VCORE_JOB_MARK of its processes (processes.job_mark)
    deny: Sequence[outbound.Network] = ()  # networks an api_post may not reach (API_POST_DENY_NETWORKS)
    on_pid: Callable[[int], None] = field(default=lambda pid: None)
    # Called once its processes are being ended (kill, timeout, shutdown), with the reason.
    on_stopping: Callable[[str], None] = field(default=lambda reason: None)

    @property
    def grace(self) -> float:
        return min(self.kill_grace, SHUTDOWN_GRACE_SECONDS) if self.control.reason == "shutdown" else self.kill_grace


class Executor:
    """One kind of job. `run` performs one attempt and reports how it went."""

    type: ClassVar[JobType]

    def run(self, attempt: Attempt) -> Outcome:
        raise NotImplementedError


class CommandExecutor(Executor):
    """`/bin/sh -c COMMAND` in its own process group; exit code 0 is done."""

    type = JobType.COMMAND

    def run(self, attempt: Attempt) -> Outcome:
        job = attempt.job
        code = run_process(["/bin/sh", "-c", job.command or ""], attempt=attempt, cwd=job.cwd, env=job.env)
        if code is None:
            return _stopped(attempt)
        attempt.log.note(f"exit code {code}")
        if code == 0:
            return Outcome(ok=True, result={"exit_code": 0})
        return Outcome(ok=False, result={"exit_code": code}, error=f"exit code {code}")


class ScriptExecutor(Executor):
    """A registered script in a child process of this program (`vcore-app script run NAME`)."""

    type = JobType.SCRIPT

    def run(self, attempt: Attempt) -> Outcome:
        job = attempt.job
        fd, name = tempfile.mkstemp(prefix=f"vcore-job-{job.id}-", suffix=".json")
        os.close(fd)
        result_file = Path(name)
        try:
            argv = [
                *self_command(),
                "script",
                "run",
                job.script or "",
                "--data-dir",
                str(attempt.data_dir),
                "--result-file",
                str(result_file),
            ]
            env = {
                "PYTHONUNBUFFERED": "1",
                JOB_ID_ENV: str(job.id),
                ATTEMPT_ENV: str(job.attempt),
                DATA_DIR_ENV: str(attempt.data_dir),  # the backup script's data folder (issue 17)
                "DB_URL": attempt.db_url,  # not inherited: processes.child_env keeps it from jobs (issue 20)
            }
            code = run_process(argv, attempt=attempt, env=env, stdin=json.dumps(job.input or {}).encode())
            if code is None:
                return _stopped(attempt)
            outcome = _read_outcome(result_file)
        finally:
            result_file.unlink(missing_ok=True)
        attempt.log.note(f"exit code {code}")
        if code == 0 and "output" in outcome:
            return Outcome(ok=True, result={"exit_code": 0, "output": outcome["output"]})
        error = outcome.get("error") or f"exit code {code}"
        return Outcome(ok=False, result={"exit_code": code}, error=error, permanent=bool(outcome.get("permanent")))


class ApiPostExecutor(Executor):
    """An HTTP POST of the JSON body; a 2xx answer is done. Status, headers and 64 KB of body are kept."""

    type = JobType.API_POST

    def run(self, attempt: Attempt) -> Outcome:
        job = attempt.job
        timeout = min(filter(None, (job.request_timeout_seconds or 30.0, job.timeout_seconds)))
        attempt.log.note(f"POST {job.url} (timeout {timeout:g} s)")
        try:
            with (
                outbound.client(
                    attempt.deny, setting="API_POST_DENY_NETWORKS", timeout=timeout, follow_redirects=False
                ) as client,
                client.stream("POST", job.url or "", json=job.body, headers=job.headers or {}) as response,
            ):
                body, truncated = _excerpt(response, attempt.control)
        except httpx.TimeoutException:
            return Outcome(ok=False, error=f"request timed out after {timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(
                ok=False, error=f"request failed: {exc or type(exc).__name__}", permanent=outbound.refused(exc)
            )
        if attempt.control.reason is not None:
            return _stopped(attempt)
        text = body.decode(response.encoding or "utf-8", errors="replace")
        attempt.log.note(f"HTTP {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.items():
            attempt.log.note(f"{name}: {value}")
        attempt.log.feed(text.encode() + (b"" if text.endswith("\n") else b"\n"))
        if truncated:
            attempt.log.note(f"body cut at {BODY_EXCERPT_BYTES} bytes")
        result = {
            "status_code": response.status_code,
            "headers": dict(response.headers),
            "body": text,
            "truncated": truncated,
        }
        if response.is_success:
            return Outcome(ok=True, result=result)
        # A 4xx will answer the same next time, except "try later" statuses.
        permanent = response.is_client_error and response.status_code not in (408, 425, 429)
        return Outcome(
            ok=False, result=result, error=f"HTTP {response.status_code} {response.reason_phrase}", permanent=permanent
        )


EXECUTORS: dict[str, Executor] = {
    executor.type.value: executor for executor in (CommandExecutor(), ScriptExecutor(), ApiPostExecutor())
}


def run_process(
    argv: Sequence[str],
    *,
    attempt: Attempt,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
) -> int | None:
    """Run a child in its own process group, its output into the log; its exit code, or None when
    the control stopped it. Either way every process of the job has ended when this returns
    (SIGTERM, grace, SIGKILL; processes.py)."""
    control = attempt.control
    started = time.time()
    try:
        proc = processes.spawn(argv, cwd=cwd, env=processes.child_env(env), stdin=stdin is not None, mark=attempt.mark)
    except OSError as exc:
        attempt.log.note(f"cannot start: {exc}")
        return 127
    attempt.on_pid(proc.pid)
    if stdin is not None and proc.stdin is not None:
        processes.feed(proc.stdin, stdin)
    assert proc.stdout is not None
    reader = threading.Thread(
        target=attempt.log.pump, args=(proc.stdout,), name=f"job-{attempt.job.id}-output", daemon=True
    )
    reader.start()
    exited = threading.Event()

    def wait() -> None:
        proc.wait()
        processes.release(proc)
        exited.set()
        control.wake.set()

    threading.Thread(target=wait, name=f"job-{attempt.job.id}-wait", daemon=True).start()
    timeout = attempt.job.timeout_seconds
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        control.wake.clear()
        if exited.is_set() or control.reason is not None:
            break
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            control.stop("timeout")
            continue
        control.wake.wait(remaining)
    if control.reason is not None:
        attempt.on_stopping(control.reason)
    # Whether it ended by itself or is being stopped, no process of the job outlives the attempt.
    processes.end_job(proc.pid, attempt.mark, attempt.grace, since=started)
    exited.wait()
    # A process that left the group (setsid) may still hold the pipe: stop waiting for its output.
    reader.join(_READER_DRAIN_SECONDS)
    if not reader.is_alive():
        proc.stdout.close()
    return None if control.reason is not None else proc.returncode


def stop_text(reason: str | None, job: Job) -> str:
    """What a stop is called: in the log, as the error, in the job's `stopping` field."""
    if reason == "timeout":
        return f"timed out after {job.timeout_seconds:g} s"
    return _STOP_TEXTS.get(reason or "", reason or "stopped")


_STOP_TEXTS = {
    "killed": "killed",
    "shutdown": "interrupted by shutdown",
    "log_full": "its log could not be written: the data disk is full",
}


def _stopped(attempt: Attempt) -> Outcome:
    reason = attempt.control.reason
    error = stop_text(reason, attempt.job)
    attempt.log.note(error)
    # JOB_LOG_WRITE_FAILURE=fail fails the job: a retry would meet the same full disk.
    return Outcome(ok=False, error=error, permanent=reason == "log_full")


def _read_outcome(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _excerpt(response: httpx.Response, control: Control) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > BODY_EXCERPT_BYTES or control.reason is not None:
            return bytes(body[:BODY_EXCERPT_BYTES]), len(body) > BODY_EXCERPT_BYTES
    return bytes(body), False
