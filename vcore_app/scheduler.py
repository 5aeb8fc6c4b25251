"""The scheduler thread and what it does when it wakes: fire the schedulers that are due.

The thread sleeps until the earliest `next_run_at` (no polling every second) and is woken early
when a scheduler is created, changed, toggled or deleted. Each due scheduler is handled in its own
transaction that both creates the job and moves `next_run_at` on, so a slot never fires twice, also
across a restart (G5). Time comes from an injected clock, so tests drive it without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from loguru import logger
from sqlalchemy import ColumnElement, Engine, func, or_
from sqlmodel import Session, select

from vcore_app import db
from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.service import JobWiring
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import Job, JobScheduler, JobStatus, utcnow
from vcore_app.notify import events as notify_events
from vcore_app.schedule_times import is_misfire
from vcore_app.schedules import following_run

Clock = Callable[[], datetime]
Tick = Callable[[], "float | None"]
_ACTIVE = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
_RETRY_AFTER_ERROR_SECONDS = 5.0


def _for_env(env_name: str) -> ColumnElement[bool]:
    return or_(JobScheduler.env_name.in_(("", "*")), JobScheduler.env_name == env_name)


def launch(*, session: Session, wiring: JobWiring, scheduler: JobScheduler, now: datetime,
           planned: datetime | None = None, respect_overlap: bool = True) -> Job | None:
    """Create the scheduler's job unless its overlap policy says not to; None when skipped.

    The job's meta records the slot it was planned for, so lateness is visible (and measured).
    """
    previous = session.get(Job, scheduler.last_job_id) if scheduler.last_job_id else None
    if respect_overlap and previous is not None and previous.status in _ACTIVE:
        if scheduler.overlap_policy == "skip":
            logger.info("scheduler {} skipped a run: job {} is still {}", scheduler.id, previous.id, previous.status)
            return None
        if scheduler.overlap_policy == "replace":
            service.kill_job(session=session, wiring=wiring, job=previous, by=f"scheduler {scheduler.id} (replace)")
    template = scheduler.job_template
    meta = {**(template.get("meta") or {}), "scheduled_for": (planned or now).isoformat()}
    job, _ = service.create_job(session=session, wiring=wiring, spec=JobSpec.model_validate({**template, "meta": meta}),
                                created_by=scheduler.created_by, scheduler_id=scheduler.id)
    scheduler.last_run_at = now
    scheduler.last_job_id = job.id
    session.add(scheduler)
    return job


def fire_due(*, engine: Engine, wiring: JobWiring, env_name: str, now: datetime) -> datetime | None:
    """Fire every enabled scheduler of this environment whose slot has come; return the next due time."""
    with db.session(engine, readonly=True) as session:
        due = session.exec(select(JobScheduler.id).where(
            JobScheduler.enabled, JobScheduler.next_run_at <= now, _for_env(env_name))).all()
    for scheduler_id in due:
        _fire_one(engine=engine, wiring=wiring, scheduler_id=scheduler_id, now=now)
    with db.session(engine, readonly=True) as session:
        return session.exec(select(func.min(JobScheduler.next_run_at)).where(
            JobScheduler.enabled, _for_env(env_name))).one()


def _fire_one(*, engine: Engine, wiring: JobWiring, scheduler_id: int, now: datetime) -> None:
    planned: datetime | None = None
    try:
        with db.session(engine) as session:
            scheduler = session.get(JobScheduler, scheduler_id)
            if scheduler is None or not scheduler.enabled or scheduler.next_run_at is None or scheduler.next_run_at > now:
                return  # changed since we looked, or another tick got here first
            planned = scheduler.next_run_at
            # After downtime a missed slot runs once (run_once) or not at all (skip); never N times.
            job = None
            if not (is_misfire(planned, now) and scheduler.misfire_policy == "skip"):
                job = launch(session=session, wiring=wiring, scheduler=scheduler, now=now, planned=planned)
            # NOTIFY HOOK (issue 14): a slot missed (app down, or skipped by the overlap policy) adds
            # its notification rows to this same transaction.
            notify_events.slot_passed(session=session, settings=wiring.settings, scheduler=scheduler,
                                      planned=planned, late=is_misfire(planned, now), job=job)
            scheduler.next_run_at = following_run(scheduler, planned, now)
    except (AppError, ValueError) as exc:
        # A template that no longer validates (a removed script): say so, move on to the next slot.
        logger.error("scheduler {} could not create its job: {}", scheduler_id, getattr(exc, "message", exc))
        if planned is not None:
            _skip_slot(engine=engine, scheduler_id=scheduler_id, planned=planned, now=now)


def _skip_slot(*, engine: Engine, scheduler_id: int, planned: datetime, now: datetime) -> None:
    """Move past `planned`, unless someone else already did (two ticks may fail on the same slot)."""
    with db.session(engine) as session:
        scheduler = session.get(JobScheduler, scheduler_id)
        if scheduler is not None and scheduler.next_run_at == planned:
            scheduler.next_run_at = following_run(scheduler, planned, now)
            session.add(scheduler)


def fire_on_start(*, engine: Engine, wiring: JobWiring, env_name: str, now: datetime) -> int:
    """Once per boot: a job for every enabled on_start scheduler of this environment."""
    with db.session(engine, readonly=True) as session:
        ids = session.exec(select(JobScheduler.id).where(
            JobScheduler.enabled, JobScheduler.trigger_type == "on_start", _for_env(env_name))).all()
    fired = 0
    for scheduler_id in ids:
        try:
            with db.session(engine) as session:
                scheduler = session.get(JobScheduler, scheduler_id)
                if scheduler is not None and launch(session=session, wiring=wiring, scheduler=scheduler, now=now):
                    fired += 1
        except (AppError, ValueError) as exc:
            logger.error("on-start scheduler {} could not create its job: {}", scheduler_id,
                         getattr(exc, "message", exc))
    return fired


def make_tick(*, engine: Engine, wiring: JobWiring, env_name: str, clock: Clock = utcnow) -> Tick:
    def tick() -> float | None:
        now = clock()
        following = fire_due(engine=engine, wiring=wiring, env_name=env_name, now=now)
        return None if following is None else max((following - clock()).total_seconds(), 0.0)

    return tick


class SchedulerThread:
    """Runs `tick()` and sleeps for the seconds it returns (None: until woken)."""

    def __init__(self, tick: Tick | None = None) -> None:
        self.tick = tick or (lambda: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self.tick()
            except Exception:
                logger.exception("scheduler tick failed; trying again in {} s", _RETRY_AFTER_ERROR_SECONDS)
                delay = _RETRY_AFTER_ERROR_SECONDS
            self._wake.wait(delay)
            self._wake.clear()
