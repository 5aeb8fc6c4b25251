"""The scheduler thread and what it does when it wakes: fire the schedulers that are due.

The thread sleeps until the earliest `next_run_at` (no polling every second; at most MAX_WAIT_SECONDS,
to notice a jump of the wall clock) and is woken early when a scheduler is created, changed, toggled
or deleted. Each due scheduler is handled in its own
transaction that both creates the job and moves `next_run_at` on, so a slot never fires twice, also
across a restart. That transaction reads the scheduler FOR UPDATE: SQLite's one writer made a second
tick wait and see the moved slot, PostgreSQL lets two read the same row unless it is locked (issue 20).
Time comes from an injected clock, so tests drive it without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from loguru import logger
from sqlalchemy import ColumnElement, Engine, func, or_
from sqlmodel import col, select

from vcore_app import db
from vcore_app.errors import AppError
from vcore_app.jobs.service import JobWiring
from vcore_app.models import JobScheduler, utcnow
from vcore_app.notify import events as notify_events
from vcore_app.schedulers.service import Clock, following_run, launch
from vcore_app.schedulers.times import is_misfire

Tick = Callable[[], "float | None"]
_RETRY_AFTER_ERROR_SECONDS = 5.0
# Slots are wall-clock times, but the thread waits on a monotonic clock (Event.wait): a wait computed
# before the wall clock jumps would run its whole length. Waking at least this often reads the wall
# clock again, so a jump forward is seen within a minute (the missed slot fires once, as after
# downtime) and a jump back only postpones the next slot; next_run_at never moves back, so none
# fires twice (issue 19).
MAX_WAIT_SECONDS = 60.0


def _for_env(env_name: str) -> ColumnElement[bool]:
    """The schedulers this instance fires: those of its ENV_NAME, and those for any ("" or "*")."""
    return or_(col(JobScheduler.env_name).in_(("", "*")), col(JobScheduler.env_name) == env_name)


def fire_due(*, engine: Engine, wiring: JobWiring, env_name: str, now: datetime) -> datetime | None:
    """Fire every enabled scheduler of this environment whose slot has come; return the next due time."""
    with db.session(engine, readonly=True) as session:
        due = session.exec(
            select(col(JobScheduler.id)).where(
                col(JobScheduler.enabled), col(JobScheduler.next_run_at) <= now, _for_env(env_name)
            )
        ).all()
    for scheduler_id in due:
        assert scheduler_id is not None  # a primary key
        _fire_one(engine=engine, wiring=wiring, scheduler_id=scheduler_id, now=now)
    with db.session(engine, readonly=True) as session:
        return session.exec(
            select(func.min(JobScheduler.next_run_at)).where(col(JobScheduler.enabled), _for_env(env_name))
        ).one()


def _fire_one(*, engine: Engine, wiring: JobWiring, scheduler_id: int, now: datetime) -> None:
    planned: datetime | None = None
    try:
        with db.session(engine) as session:
            # Locked until commit on PostgreSQL (SQLite's one writer needs no lock): two nodes
            # firing at once (a lease changing hands) cannot both take one slot (issue 20).
            scheduler = session.get(JobScheduler, scheduler_id, with_for_update=True)
            if (
                scheduler is None
                or not scheduler.enabled
                or scheduler.next_run_at is None
                or scheduler.next_run_at > now
            ):
                return  # changed since we looked, or another tick got here first
            planned = scheduler.next_run_at
            # After downtime a missed slot runs once (run_once) or not at all (skip); never N times.
            job = None
            if not (is_misfire(planned, now) and scheduler.misfire_policy == "skip"):
                job = launch(session=session, wiring=wiring, scheduler=scheduler, now=now, planned=planned)
            else:
                wiring.hub.notify("scheduler.missed")  # metrics (issue 17)
            # NOTIFY HOOK (issue 14): a slot missed (app down, or skipped by the overlap policy) adds
            # its notification rows to this same transaction.
            notify_events.slot_passed(
                session=session,
                settings=wiring.settings,
                scheduler=scheduler,
                planned=planned,
                late=is_misfire(planned, now),
                job=job,
            )
            scheduler.next_run_at = following_run(scheduler, planned, now)
    except (AppError, ValueError) as exc:
        # A template that no longer validates (a removed script): say so, move on to the next slot.
        logger.error("scheduler {} could not create its job: {}", scheduler_id, getattr(exc, "message", exc))
        if planned is not None:
            _skip_slot(engine=engine, scheduler_id=scheduler_id, planned=planned, now=now)


def _skip_slot(*, engine: Engine, scheduler_id: int, planned: datetime, now: datetime) -> None:
    """Move past `planned`, unless someone else already did (two ticks may fail on the same slot)."""
    with db.session(engine) as session:
        scheduler = session.get(JobScheduler, scheduler_id, with_for_update=True)
        if scheduler is not None and scheduler.next_run_at == planned:
            scheduler.next_run_at = following_run(scheduler, planned, now)
            session.add(scheduler)


def fire_on_start(*, engine: Engine, wiring: JobWiring, env_name: str, now: datetime) -> int:
    """Once per boot: a job for every enabled on_start scheduler of this environment."""
    with db.session(engine, readonly=True) as session:
        ids = session.exec(
            select(col(JobScheduler.id)).where(
                col(JobScheduler.enabled), col(JobScheduler.trigger_type) == "on_start", _for_env(env_name)
            )
        ).all()
    fired = 0
    for scheduler_id in ids:
        try:
            with db.session(engine) as session:
                scheduler = session.get(JobScheduler, scheduler_id)
                if scheduler is not None and launch(session=session, wiring=wiring, scheduler=scheduler, now=now):
                    fired += 1
        except (AppError, ValueError) as exc:
            logger.error(
                "on-start scheduler {} could not create its job: {}", scheduler_id, getattr(exc, "message", exc)
            )
    return fired


def make_tick(*, engine: Engine, wiring: JobWiring, env_name: str, clock: Clock = utcnow) -> Tick:
    def tick() -> float | None:
        if wiring.disk is not None and wiring.disk.full:
            # Its jobs would be refused and its slots skipped: wait, and fire what is due once space
            # returns (the misfire policy decides, as after downtime). The runtime wakes us then.
            return MAX_WAIT_SECONDS
        now = clock()
        following = fire_due(engine=engine, wiring=wiring, env_name=env_name, now=now)
        if following is None:
            return None  # nothing planned: a change wakes the thread
        return min(max((following - clock()).total_seconds(), 0.0), MAX_WAIT_SECONDS)

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
