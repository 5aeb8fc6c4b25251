"""The one Huey task, `run_job(job_id)`: claim the job, run its executor, record the outcome.

The claim is a guarded UPDATE (docs/design.md, "The ledger rule"): a duplicate or stale message
finds the job no longer `queued` (or not yet due) and does nothing, so each attempt runs once. The
record is guarded by status and attempt too: a job killed meanwhile stays `cancelled`. A failed
attempt is queued again with its delay while attempts remain; the delay rides on Huey's `eta` (its
scheduler ticks once a second).
"""

from __future__ import annotations

import os

from loguru import logger
from sqlalchemy import ColumnElement, Engine, or_, update
from sqlmodel import col

from vcore_app import db
from vcore_app.jobs import service
from vcore_app.jobs.executors import EXECUTORS, Attempt, Outcome
from vcore_app.jobs.logs import JobLog
from vcore_app.jobs.service import JobWiring
from vcore_app.models import Job, JobStatus, pk, utcnow


class Runner:
    def __init__(self, *, engine: Engine, wiring: JobWiring, boot_id: str) -> None:
        self.engine = engine
        self.wiring = wiring
        self.boot_id = boot_id

    def run_job(self, job_id: int) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        wiring = self.wiring
        control = wiring.controls.add(job_id)
        log = wiring.log(job_id)
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
                kill_grace=wiring.settings.JOB_KILL_GRACE_SECONDS,
                on_pid=lambda pid: self._record_pid(job, pid),
            )
            try:
                outcome = EXECUTORS[job.type].run(attempt)
            except Exception as exc:
                logger.exception("job {} failed inside the runner", job.id)
                outcome = Outcome(ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
            self._record(job, outcome, control.reason, log)
        finally:
            wiring.controls.remove(job_id)
            log.close()

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

    def _record_pid(self, job: Job, pid: int) -> None:
        job.pid = pid
        with db.session(self.engine) as session:
            session.execute(
                update(Job).where(col(Job.id) == job.id, col(Job.status) == JobStatus.RUNNING).values(pid=pid),
                execution_options={"synchronize_session": False},
            )

    def _record(self, job: Job, outcome: Outcome, stop_reason: str | None, log: JobLog) -> None:
        if stop_reason == "killed":
            return  # kill_job already moved it to cancelled
        job_id = pk(job)
        expect = [JobStatus.RUNNING]
        where: list[ColumnElement[bool]] = [col(Job.attempt) == job.attempt]
        with db.session(self.engine) as session:
            if stop_reason == "shutdown":
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
