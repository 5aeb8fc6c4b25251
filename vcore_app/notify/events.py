"""What happened, turned into outbox rows inside the caller's transaction.

The hooks below are called from the places where things happen (each call site is marked
`NOTIFY HOOK`): a job's final state (jobs/service.py `transition`), a scheduler's slot that passed
without a run on time (scheduler.py `_fire_one`), the app's start (runtime.py). They only add rows to
the caller's session: nothing is sent here, nothing here can fail the job or slow a worker beyond
one small query; the sender (outbox.py) delivers after the commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from vcore_app import __version__
from vcore_app.filetail import tail_offset
from vcore_app.jobs.logs import log_path
from vcore_app.models import Job, JobScheduler, JobStatus
from vcore_app.notify import outbox
from vcore_app.notify.models import NotifyDelivery
from vcore_app.notify.rules import NotifyRule, effective_rule, wants
from vcore_app.settings import Settings

LOG_TAIL_LINES = 20
_LOG_LINE_CHARS = 300


def job_finished(*, session: Session, job: Job, settings: Settings) -> None:
    """NOTIFY HOOK target: `job` has just reached its final state (after its last retry).

    done: `recovered` if its scheduler's previous finished job had failed, else `succeeded`;
    failed: `failed`. A cancelled job (killed or revoked by a person) is not notified.
    """
    if job.status not in (JobStatus.DONE, JobStatus.FAILED):
        return
    scheduler = session.get(JobScheduler, job.scheduler_id) if job.scheduler_id else None
    rule = effective_rule(job.notify, scheduler.notify if scheduler else None)
    if job.status == JobStatus.FAILED:
        event, verb = "failed", "failed"
    elif scheduler is not None and _previous_failed(session, job) and wants(rule, "recovered", settings):
        event, verb = "recovered", "recovered"
    else:
        event, verb = "succeeded", "succeeded"
    if not wants(rule, event, settings):
        return
    title = f"Job #{job.id} '{job.name}' {verb}"
    outbox.enqueue(
        session=session,
        event=event,
        payload=job_payload(job, scheduler, settings, title),
        channels=rule.channels,
        group_key=_group(event, scheduler),
        dedupe_key=f"{event}:job:{job.id}:{job.finished_at.isoformat() if job.finished_at else ''}",
    )


def slot_passed(
    *, session: Session, settings: Settings, scheduler: JobScheduler, planned: datetime, late: bool, job: Job | None
) -> None:
    """NOTIFY HOOK target: a scheduler's slot `planned` was handled; `job` is what it created (None
    when nothing ran). `missed` when the app was down at that time (`late`) or the overlap policy
    skipped the run. Each slot is handled once (its transaction moves `next_run_at`), so once."""
    if job is not None and not late:
        return
    rule = effective_rule(None, scheduler.notify)
    if not wants(rule, "missed", settings):
        return
    if late:
        outcome = f"ran job #{job.id} late to catch up" if job is not None else "skipped (misfire policy)"
        detail = f"The app was not running at {planned.isoformat()}; {outcome}."
    else:
        detail = f"The run of {planned.isoformat()} was skipped: the previous run is still active (overlap policy)."
    payload = {
        "title": f"Scheduler '{scheduler.name}' missed its run",
        "detail": detail,
        "scheduler": {"id": scheduler.id, "name": scheduler.name},
        "planned": planned.isoformat(),
        "url": f"{settings.BASE_URL}/schedulers/{scheduler.id}",
    }
    outbox.enqueue(
        session=session,
        event="missed",
        payload=payload,
        channels=rule.channels,
        group_key=_group("missed", scheduler),
        dedupe_key=f"missed:s{scheduler.id}:{planned.isoformat()}",
    )


def app_started(*, session: Session, settings: Settings, boot_id: str) -> None:
    """NOTIFY HOOK target: the runtime has started (sent only with NOTIFY_ON_START)."""
    if not settings.NOTIFY_ON_START:
        return
    payload = {
        "title": f"{settings.PROJECT_NAME} started (vcore-app {__version__}, environment {settings.ENV_NAME})",
        "url": f"{settings.BASE_URL}/",
    }
    outbox.enqueue(
        session=session, event="started", payload=payload, channels=None, group_key="", dedupe_key=f"started:{boot_id}"
    )


def long_running(*, session: Session, settings: Settings, now: datetime) -> None:
    """Jobs running longer than their rule's `long_running_seconds`: notified once per attempt."""
    for job, scheduler, rule in overdue_jobs(session=session, settings=settings, now=now):
        assert job.started_at is not None and rule.long_running_seconds is not None
        title = f"Job #{job.id} '{job.name}' is running for more than {rule.long_running_seconds:g} s"
        outbox.enqueue(
            session=session,
            event="long_running",
            payload=job_payload(job, scheduler, settings, title),
            channels=rule.channels,
            group_key=_group("long_running", scheduler),
            dedupe_key=_long_running_key(job),
        )


def overdue_jobs(
    *, session: Session, settings: Settings, now: datetime
) -> list[tuple[Job, JobScheduler | None, NotifyRule]]:
    """Running jobs past their rule's `long_running_seconds` and not notified yet (a read-only
    question, so the sender takes the write lock only when there is something to write)."""
    found: list[tuple[Job, JobScheduler | None, NotifyRule]] = []
    running = session.exec(select(Job).where(Job.status == JobStatus.RUNNING)).all()
    schedulers: dict[int, JobScheduler | None] = {}
    for job in running:
        if job.started_at is None:
            continue
        if job.scheduler_id is not None and job.scheduler_id not in schedulers:
            schedulers[job.scheduler_id] = session.get(JobScheduler, job.scheduler_id)
        scheduler = schedulers.get(job.scheduler_id) if job.scheduler_id is not None else None
        rule = effective_rule(job.notify, scheduler.notify if scheduler else None)
        limit = rule.long_running_seconds
        if (
            limit is None
            or now - job.started_at < timedelta(seconds=limit)
            or not wants(rule, "long_running", settings)
        ):
            continue
        noted = session.exec(
            select(NotifyDelivery.id).where(col(NotifyDelivery.dedupe_key).startswith(_long_running_key(job) + ":"))
        ).first()
        if noted is None:
            found.append((job, scheduler, rule))
    return found


def _long_running_key(job: Job) -> str:
    return f"long_running:job:{job.id}:{job.started_at.isoformat() if job.started_at else ''}"


def job_payload(job: Job, scheduler: JobScheduler | None, settings: Settings, title: str) -> dict[str, Any]:
    """What the templates show of a job, captured now (the log may be gone when the send happens)."""
    assert job.id is not None
    duration = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    exit_code = job.result.get("exit_code") if isinstance(job.result, dict) else None
    return {
        "title": title,
        "job": {
            "id": job.id,
            "name": job.name,
            "status": job.status,
            "type": job.type,
            "attempt": job.attempt,
            "max_retries": job.max_retries,
            "duration_seconds": duration,
            "exit_code": exit_code,
            "error": job.error,
        },
        "scheduler": {"id": scheduler.id, "name": scheduler.name} if scheduler else None,
        "log_tail": log_tail(settings, job.id),
        "url": f"{settings.BASE_URL}/jobs/{job.id}",
    }


def log_tail(settings: Settings, job_id: int, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of the job's log, each capped; none if there is no log."""
    path = log_path(settings.job_logs_dir, job_id)
    try:
        offset = tail_offset(path, lines)
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(lines * 4 * _LOG_LINE_CHARS)
    except OSError:
        return []
    text = data.decode(errors="replace").splitlines()[-lines:]
    return [line if len(line) <= _LOG_LINE_CHARS else line[:_LOG_LINE_CHARS] + "…" for line in text]


def _previous_failed(session: Session, job: Job) -> bool:
    previous = session.exec(
        select(Job.status)
        .where(
            Job.scheduler_id == job.scheduler_id,
            col(Job.id) < job.id,
            col(Job.status).in_((JobStatus.DONE, JobStatus.FAILED)),
        )
        .order_by(col(Job.id).desc())
        .limit(1)
    ).first()
    return previous == JobStatus.FAILED


def _group(event: str, scheduler: JobScheduler | None) -> str:
    return f"{event}:scheduler:{scheduler.id}" if scheduler else f"{event}:jobs"
