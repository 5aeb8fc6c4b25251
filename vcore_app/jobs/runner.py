"""The one Huey task, `run_job(job_id)`: claim the job, run its executor, record the outcome.

The claim is a guarded UPDATE (docs/design.md, "The ledger rule"): a duplicate or stale message
finds the job no longer `queued` (or not yet due) and does nothing, so each attempt runs once. The
record is guarded by status and attempt too. A killed or timed-out job shows `stopping` while its
processes are ended, and becomes `cancelled` or `failed` only here, once the executor returned and no
process of it is left. With JOB_LOG_WRITE_FAILURE=fail, the first line its log loses to a full disk
stops it the same way, and it is failed (not retried) "its log could not be written". A failed
attempt is queued again with its delay while attempts remain; the delay rides on Huey's `eta` (its
scheduler ticks once a second).

The ledger must not lie when the data disk is full (issue 19): the job's process has ended, but the
write of its outcome fails with "database or disk is full". The runner keeps the outcome and tries
the write again with a growing pause (up to _RECORD_RETRY_MAX_SECONDS) until it succeeds, so the job
is `done` or `failed` within seconds of space returning, not `running` until a restart. Only a
shutdown ends the retries; the next start then settles the job as interrupted (service.recover).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from loguru import logger
from sqlalchemy import ColumnElement, Engine, func, or_, update
from sqlmodel import col, select

from vcore_app import db
from vcore_app.disk import is_disk_full
from vcore_app.jobs import processes, service
from vcore_app.jobs.executors import EXECUTORS, Attempt, Control, Outcome, stop_text
from vcore_app.jobs.logs import JobLog
from vcore_app.jobs.service import JobWiring
from vcore_app.models import Job, JobStatus, pk, utcnow

_RECORD_RETRY_FIRST_SECONDS = 0.2
_RECORD_RETRY_MAX_SECONDS = 5.0


class Runner:
    def __init__(self, *, engine: Engine, wiring: JobWiring, boot_id: str) -> None:
        self.engine = engine
        self.wiring = wiring
        self.boot_id = boot_id

    def run_job(self, job_id: int) -> None:
        try:
            job = self._claim(job_id)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Still `queued`, but its queue message is spent: the runtime enqueues it again once the
            # disk has room (Runtime._disk_level_changed), which note_full makes sure it hears of.
            logger.warning("job {} could not be started: the data disk is full", job_id)
            if self.wiring.disk is not None:
                self.wiring.disk.note_full()
            return
        if job is None:
            return
        wiring = self.wiring
        control = wiring.controls.add(job_id)
        if self._stop_asked(job_id):  # a kill between the claim and add() found no control to stop
            control.stop("killed")
        log = wiring.log(job_id, on_full=self._log_full_handler(control))
        try:
            retry_note = f", retry {job.attempt - 1}" if job.attempt > 1 else ""
            log.note(
                f"==== attempt {job.attempt} of {job.max_retries + 1}{retry_note}: {job.type} job "
                f"'{job.name}' on queue {job.queue_name} (pid {os.getpid()}) ===="
            )
            attempt = Attempt(
                job=job,
                log=log,
                control=control,
                plugins_dir=wiring.settings.plugins_dir,
                data_dir=wiring.settings.DATA_DIR,
                db_url=wiring.settings.DB_URL,
                kill_grace=wiring.settings.JOB_KILL_GRACE_SECONDS,
                mark=processes.job_mark(self.boot_id, job_id),
                deny=wiring.settings.api_post_deny,
                on_pid=lambda pid: self._record_pid(job, pid),
                on_stopping=lambda reason: self._record_stopping(job, reason),
            )
            try:
                outcome = EXECUTORS[job.type].run(attempt)
            except Exception as exc:
                logger.exception("job {} failed inside the runner", job.id)
                outcome = Outcome(ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
            if wiring.shipper is not None:  # issue 20: its output is in the database before its outcome
                wiring.shipper.ship_now(log)
            self._record_until_written(job, outcome, control, log)
        finally:
            wiring.controls.remove(job_id)
            log.close()

    def _log_full_handler(self, control: Control) -> Callable[[], None] | None:
        """JOB_LOG_WRITE_FAILURE=fail: the first line its log loses ends the job, as a kill does."""
        if self.wiring.settings.JOB_LOG_WRITE_FAILURE == "fail":
            return lambda: control.stop("log_full")
        return None

    def _claim(self, job_id: int) -> Job | None:
        with db.session(self.engine) as session:
            return service.transition(
                session=session,
                wiring=self.wiring,
                job_id=job_id,
                expect=[JobStatus.QUEUED],
                to=JobStatus.RUNNING,
                where=[or_(col(Job.run_after).is_(None), col(Job.run_after) <= utcnow())],
                attempt=Job.attempt + 1,
                boot_id=self.boot_id,
                pid=None,
                error=None,
                run_after=None,
            )

    def _record_until_written(self, job: Job, outcome: Outcome, control: Control, log: JobLog) -> None:
        """`_record`, again and again while the disk is full (see the module docstring)."""
        pause = _RECORD_RETRY_FIRST_SECONDS
        since: float | None = None
        while True:
            try:
                self._record(job, outcome, control.reason, log, notes=since is None)  # notes once
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                if self.wiring.disk is not None:
                    self.wiring.disk.note_full()
                if since is None:
                    since = time.monotonic()
                    logger.warning(
                        "job {} ended but the disk is full: recording its outcome once there is room", job.id
                    )
                if control.reason == "shutdown":
                    logger.warning("job {}: shutting down before its outcome could be recorded", job.id)
                    return
                if control.wake.is_set():  # a kill or timeout set it for good: it cannot wake us now
                    time.sleep(pause)
                else:  # a shutdown wakes us
                    control.wake.wait(pause)
                pause = min(pause * 2, _RECORD_RETRY_MAX_SECONDS)
                continue
            if since is not None:
                late = time.monotonic() - since
                log.note(f"outcome recorded {late:.1f} s late: the data disk was full")
                logger.info("job {}: outcome recorded {:.1f} s late, the data disk was full", job.id, late)
            return

    def _record_pid(self, job: Job, pid: int) -> None:
        """The pid is for the page and for settling the job after a crash; a full disk does not stop
        the job for want of it (the in-process Control still reaches its process group)."""
        job.pid = pid
        try:
            with db.session(self.engine) as session:
                session.execute(
                    update(Job).where(col(Job.id) == job.id, col(Job.status) == JobStatus.RUNNING).values(pid=pid),
                    execution_options={"synchronize_session": False},
                )
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            logger.warning("job {}: its pid {} could not be recorded, the disk is full", job.id, pid)

    def _stop_asked(self, job_id: int) -> bool:
        with db.session(self.engine, readonly=True) as session:
            return session.exec(select(Job.stopping).where(col(Job.id) == job_id)).first() is not None

    def _record_stopping(self, job: Job, reason: str) -> None:
        """A timeout (or shutdown) is ending the job's processes: show it, as kill_job does for a kill."""
        if reason == "killed":
            return
        try:
            with db.session(self.engine) as session:
                service.mark_stopping(
                    session=session,
                    wiring=self.wiring,
                    job_id=pk(job),
                    reason=stop_text(reason, job),
                    where=self._own_attempt(job),
                )
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Its processes are ended all the same; the outcome records why (_record_until_written).
            logger.warning("job {}: its stop could not be shown, the disk is full", job.id)

    def _own_attempt(self, job: Job) -> list[ColumnElement[bool]]:
        """Its attempt, run by this node: a node declared lost (issue 20), back while another node runs
        the job's next attempt, changes nothing of it."""
        return [col(Job.attempt) == job.attempt, col(Job.boot_id) == self.boot_id]

    def _record(self, job: Job, outcome: Outcome, stop_reason: str | None, log: JobLog, *, notes: bool = True) -> None:
        job_id = pk(job)
        expect = [JobStatus.RUNNING]
        where = self._own_attempt(job)
        with db.session(self.engine) as session:
            if stop_reason == "killed":  # only now, with no process of it left, is it cancelled
                service.transition(
                    session=session,
                    wiring=self.wiring,
                    job_id=job_id,
                    to=JobStatus.CANCELLED,
                    error=func.coalesce(col(Job.stopping), "killed"),
                    expect=expect,
                    where=where,
                )
            elif stop_reason == "shutdown":
                service.interrupt(
                    session=session, wiring=self.wiring, job=job, reason="interrupted by shutdown", log=log
                )
            elif outcome.ok:
                service.transition(
                    session=session,
                    wiring=self.wiring,
                    job_id=job_id,
                    to=JobStatus.DONE,
                    result=outcome.result,
                    error=None,
                    expect=expect,
                    where=where,
                )
            elif not outcome.permanent and job.attempt <= job.max_retries:
                delay = job.retry_delay_seconds
                if notes:
                    log.note(f"failed: {outcome.error}; retrying in {delay:g} s")
                service.transition(
                    session=session,
                    wiring=self.wiring,
                    job_id=job_id,
                    to=JobStatus.QUEUED,
                    result=outcome.result,
                    error=outcome.error,
                    run_after=service.retry_at(job) if delay else None,
                    expect=expect,
                    where=where,
                )
            else:
                if notes:
                    log.note(f"failed: {outcome.error}")
                service.transition(
                    session=session,
                    wiring=self.wiring,
                    job_id=job_id,
                    to=JobStatus.FAILED,
                    result=outcome.result,
                    error=(outcome.error or "failed")[:1000],
                    expect=expect,
                    where=where,
                )
