"""Jobs: create, the one function that changes a job's status, queries, and recovery at start.

The database is the ledger (docs/design.md, "The ledger rule"); Huey only carries job ids. Every
status change is one guarded UPDATE (`... WHERE id = ? AND status IN (...)`), so two threads racing
for one job cannot both win. What must see committed rows (the enqueue a worker reacts to, the
WebSocket push) runs after the commit (`db.on_commit`), so a 2xx always means the row is there.

Who acts is always passed as `actor`: a `User` (a person or an API client), whose ownership and role
this module checks, or `ByScheduler` (the scheduler thread creating a scheduler's job: a superuser
made the scheduler, so no role applies).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Engine, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vcore_app import audit, db
from vcore_app.errors import AppError, from_validation
from vcore_app.jobs import processes
from vcore_app.jobs.logs import JobLog, log_path
from vcore_app.jobs.queues import QueueUnavailable
from vcore_app.jobs.rights import check_may_run
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import Job, JobStatus, JobType, User, utcnow
from vcore_app.notify import events as notify_events

if TYPE_CHECKING:
    from pathlib import Path

    from vcore_app.cluster.logship import LogMirror, LogShipper
    from vcore_app.disk import DiskWatch
    from vcore_app.jobs.executors import Controls
    from vcore_app.jobs.queues import QueueSet
    from vcore_app.plugins.manager import Plugins
    from vcore_app.scripts.registry import ScriptRegistry
    from vcore_app.settings import Settings

Q = JobStatus  # a short name for the tables below

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    Q.PENDING: frozenset({Q.QUEUED, Q.CANCELLED}),
    Q.QUEUED: frozenset({Q.RUNNING, Q.PENDING, Q.CANCELLED}),
    Q.RUNNING: frozenset({Q.DONE, Q.FAILED, Q.QUEUED, Q.CANCELLED}),
    Q.DONE: frozenset({Q.QUEUED}),
    Q.FAILED: frozenset({Q.QUEUED}),
    Q.CANCELLED: frozenset({Q.QUEUED}),
}
# What `PUT /jobs/{id}/status` may ask for, by current status: hold or release a waiting job, cancel
# it, or run a finished one again. A running job is ended by kill instead.
MANUAL: dict[JobStatus, frozenset[JobStatus]] = {
    Q.QUEUED: frozenset({Q.PENDING, Q.CANCELLED}),
    Q.PENDING: frozenset({Q.QUEUED, Q.CANCELLED}),
    Q.DONE: frozenset({Q.QUEUED}),
    Q.FAILED: frozenset({Q.QUEUED}),
    Q.CANCELLED: frozenset({Q.QUEUED}),
}
FINISHED = frozenset({Q.DONE, Q.FAILED, Q.CANCELLED})


class JobEvents(Protocol):
    """Who hears about committed job changes and new log lines (the live hub, live.py)."""

    def job_changed(self, job: Job) -> None: ...
    def job_deleted(self, job: Job) -> None: ...
    def log_lines(self, job_id: int, offset: int, lines: list[str]) -> None: ...
    def notify(self, event: str, job: Job | None = None) -> None:
        """A named event for the observers (metrics.py counts them, issue 17)."""

    def kill(self, job_id: int) -> None:
        """Pass a kill on to the node that runs the job, when it is not this process (issue 20)."""


@dataclass(frozen=True)
class ByScheduler:
    """The scheduler thread creating (or replacing) the job of scheduler `scheduler_id`; the job
    belongs to whoever made the scheduler (`owner_id`)."""

    scheduler_id: int
    owner_id: int | None

    @property
    def label(self) -> str:
        return f"scheduler {self.scheduler_id}"


Actor = User | ByScheduler


@dataclass(frozen=True)
class JobWiring:
    """The runtime parts a job change reaches: queues to enqueue on, the hub to tell, the scripts to
    validate against, the running attempts to stop, and the settings (log folder and cap)."""

    queues: QueueSet
    hub: JobEvents
    scripts: ScriptRegistry
    controls: Controls
    settings: Settings
    plugins: Plugins | None = None  # plugins: prepare_job may refuse a job, on_job_finished hears of it
    disk: DiskWatch | None = None  # issue 19: new jobs are refused while the data disk is full
    # issue 20, with QUEUE_URL: logs written here are shipped into the database, and read back from it
    shipper: LogShipper | None = None
    mirror: LogMirror | None = None

    def log(self, job_id: int, *, on_full: Callable[[], None] | None = None) -> JobLog:
        shipper = self.shipper
        log = JobLog(
            log_path(self.settings.job_logs_dir, job_id),
            max_bytes=self.settings.JOB_LOG_MAX_BYTES,
            listener=lambda offset, lines: self.hub.log_lines(job_id, offset, lines),
            on_close=shipper.closing if shipper is not None else None,
            on_full=on_full,
        )
        if shipper is not None:
            shipper.track(job_id, log)
        return log

    def log_to_read(self, job_id: int) -> Path:
        """The file holding job `job_id`'s log for a reader; blocks (with worker nodes, it is brought
        up to date from the database first)."""
        if self.mirror is not None:
            return self.mirror.path(job_id)
        return log_path(self.settings.job_logs_dir, job_id)


def owner_filter(user: User) -> int | None:
    """Whose jobs a user sees: a superuser all (None), anyone else only its own."""
    return None if user.is_superuser else user.id


def create_job(
    *, session: Session, wiring: JobWiring, spec: JobSpec, actor: Actor, idempotency_key: str | None = None
) -> tuple[Job, bool]:
    """Insert a `queued` job and enqueue it once committed. Returns (job, created).

    With an idempotency key already used by the same creator, the existing job comes back instead.
    """
    spec = _accepted(spec, wiring=wiring, actor=actor)
    if idempotency_key is not None:
        existing = _by_idempotency_key(session, [idempotency_key], actor)
        if existing:
            return existing[0], False
    if wiring.disk is not None:
        wiring.disk.refuse_if_full()
    job = _new_job(spec, actor, idempotency_key)
    twin = _insert_unless_twin(session, [job], [idempotency_key] if idempotency_key is not None else None, actor)
    if twin:
        return twin[0], False
    _after_commit(session, wiring, job)
    db.on_commit(session, lambda: wiring.hub.notify("job.created", job))  # metrics (issue 17)
    if not isinstance(actor, ByScheduler):  # audit (issue 17): a scheduler's routine runs are in the ledger
        audit.record(session, action="job.create", target=_what(job), actor=_audit_actor(actor))
    return job, True


BATCH_MAX = 1000


def create_jobs(
    *, session: Session, wiring: JobWiring, specs: Sequence[JobSpec], actor: User, idempotency_key: str | None = None
) -> tuple[list[Job], bool]:
    """Insert many `queued` jobs in this one transaction, all or none: a bad spec is a 422 naming
    its index (`("body", "jobs", 3, "command")`). Once committed, each queue gets its jobs in one
    write (Queue.enqueue_many) instead of one per job. Returns (jobs in the order given, created).

    The batch's idempotency key is stored per job as `key#index`, so a repeat of the whole batch
    returns the jobs it created (and a repeat by another user is a 409), with no table of its own.
    """
    accepted = []
    for index, spec in enumerate(specs):
        try:
            accepted.append(_accepted(spec, wiring=wiring, actor=actor))
        except AppError as exc:
            moved = [field.moved(("body", "jobs", index)) for field in exc.fields]
            raise AppError(f"jobs[{index}]: {exc.message}", exc.status, moved) from None
    keys = [f"{idempotency_key}#{index}" for index in range(len(specs))] if idempotency_key else None
    if keys:
        existing = _by_idempotency_key(session, keys, actor)
        if existing:
            return existing, False
    if wiring.disk is not None:
        wiring.disk.refuse_if_full()
    jobs = [_new_job(spec, actor, keys[index] if keys else None) for index, spec in enumerate(accepted)]
    twin = _insert_unless_twin(session, jobs, keys, actor)
    if twin:
        return twin, False
    now = utcnow()
    later: list[Job] = []
    waiting: dict[str, list[Job]] = {}
    for job in jobs:
        if job.run_after and job.run_after > now:
            later.append(job)
        else:
            waiting.setdefault(job.queue_name, []).append(job)
    for job in later:
        _after_commit(session, wiring, job)  # a delayed start goes to its queue's schedule, one by one

    def committed() -> None:
        for queue_name, queued in waiting.items():
            for job in queued:  # told before enqueued, as in _after_commit
                wiring.hub.job_changed(job)
            wiring.queues.enqueue_many(queue_name, [(stored_id(job), job.priority) for job in queued])
        for job in jobs:
            wiring.hub.notify("job.created", job)  # metrics (issue 17)

    db.on_commit(session, committed)
    ids = ", ".join(str(job.id) for job in jobs[:20]) + (", ..." if len(jobs) > 20 else "")
    audit.record(session, action="job.create_batch", target=f"{len(jobs)} jobs: {ids}", actor=actor)
    return jobs, True


def _accepted(spec: JobSpec, *, wiring: JobWiring, actor: Actor) -> JobSpec:
    """The spec as it will be stored, once the actor may run it, its fields fit its type and no
    plugin refuses it; a 403 or 422 otherwise."""
    check_may_run(actor, spec.type)
    spec = spec.checked(wiring.scripts)
    refusal = wiring.plugins.refusal(spec=spec) if wiring.plugins is not None else None  # plugins
    if refusal:
        raise AppError(f"Refused: {refusal}", 422)
    return spec


def _by_idempotency_key(session: Session, keys: list[str], actor: Actor) -> list[Job]:
    """The jobs already created under these keys, in their order; a 409 if another user made them."""
    found = {job.idempotency_key: job for job in session.exec(select(Job).where(col(Job.idempotency_key).in_(keys)))}
    if not found:
        return []
    created_by = actor.id if isinstance(actor, User) else actor.owner_id
    if any(job.created_by != created_by for job in found.values()):
        raise AppError("This idempotency key is used by another job", 409)
    return [found[key] for key in keys if key in found]


def _insert_unless_twin(session: Session, jobs: list[Job], keys: list[str] | None, actor: Actor) -> list[Job]:
    """Insert `jobs`; or, when a twin request with the same idempotency keys got there first, return
    its jobs. SQLite's one writer lets the caller's look see the twin's jobs beforehand; on PostgreSQL
    both requests pass that look and the unique key stops the second here once the first has committed
    (issue 20). The savepoint keeps the rest of the transaction usable for the answer; without keys
    there is no twin to lose to, and no savepoint to pay for."""
    if not keys:
        session.add_all(jobs)
        session.flush()
        return []
    try:
        with session.begin_nested():
            session.add_all(jobs)
    except IntegrityError:
        twin = _by_idempotency_key(session, keys, actor)
        if not twin:
            raise
        return twin
    return []


def _new_job(spec: JobSpec, actor: Actor, idempotency_key: str | None) -> Job:
    now = utcnow()
    return Job(
        **spec.model_dump(exclude={"name"}),
        name=spec.display_name(),
        status=JobStatus.QUEUED,
        created_by=actor.id if isinstance(actor, User) else actor.owner_id,
        scheduler_id=actor.scheduler_id if isinstance(actor, ByScheduler) else None,
        idempotency_key=idempotency_key,
        created_at=now,
        queued_at=now,
    )


def _what(job: Job) -> str:
    return f"job {job.id} {job.name}"


def _audit_actor(actor: Actor) -> User | str:
    """Who the audit log names: the user, or "scheduler N"."""
    return actor if isinstance(actor, User) else actor.label


def rerun_job(*, session: Session, wiring: JobWiring, job_id: int, actor: User) -> Job:
    """A new job from the spec of job `job_id`, created by `actor` (the old one keeps its history)."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    new = create_job(session=session, wiring=wiring, spec=JobSpec.of(job), actor=actor)[0]
    audit.record(session, action="job.rerun", target=f"{_what(new)} from job {job.id}", actor=actor)  # issue 17
    return new


def transition(
    *,
    session: Session,
    wiring: JobWiring,
    job_id: int,
    to: JobStatus,
    expect: Iterable[JobStatus],
    where: Collection[ColumnElement[bool]] = (),
    **values: Any,
) -> Job | None:
    """The one place a job's status changes: to `to` if it is in `expect` now (and `where` holds).

    Returns the updated job, or None when the job was not in an expected state (someone else won).
    """
    expect = tuple(expect)
    impossible = [state for state in expect if to not in TRANSITIONS[state]]
    if impossible:
        raise ValueError(f"no transition from {impossible} to {to}")
    now = utcnow()
    stamps: dict[str, Any] = {
        Q.QUEUED: {"queued_at": now, "started_at": None, "finished_at": None, "pid": None},
        Q.RUNNING: {"started_at": now, "finished_at": None},
        Q.PENDING: {},
    }.get(to, {"finished_at": now, "pid": None})
    statement = (
        update(Job)
        .where(col(Job.id) == job_id, col(Job.status).in_(expect), *where)
        .values(status=to, **{**stamps, **values})
        .returning(Job)
    )
    options = {"synchronize_session": False, "populate_existing": True}  # the returned row wins over a loaded copy
    job = session.execute(statement.values(stopping=None), execution_options=options).scalars().first()  # issue 12
    if job is not None:
        _after_commit(session, wiring, job)
        # NOTIFY HOOK (issue 14): a final state adds its notification rows to this same transaction.
        notify_events.job_finished(session=session, job=job, settings=wiring.settings)
        db.on_commit(session, lambda: wiring.hub.notify("job.moved", job))  # metrics (issue 17)
    return job


# issue 12: an honest kill. The job stays `running` with `stopping` set until no process is left.
TIMED_OUT = "timed out"


def mark_stopping(
    *, session: Session, wiring: JobWiring, job_id: int, reason: str, where: Collection[ColumnElement[bool]] = ()
) -> Job | None:
    """Show that a running job is being stopped (kill, timeout); the first reason stays."""
    statement = (
        update(Job)
        .where(col(Job.id) == job_id, col(Job.status) == JobStatus.RUNNING, col(Job.stopping).is_(None), *where)
        .values(stopping=reason[:200])
        .returning(Job)
    )
    options = {"synchronize_session": False, "populate_existing": True}
    job = session.execute(statement, execution_options=options).scalars().first()
    if job is not None:
        db.on_commit(session, lambda: wiring.hub.job_changed(job))
    return job


def stored_id(job: Job) -> int:
    """The id of a job read from (or flushed to) the database: never None there."""
    assert job.id is not None
    return job.id


def _after_commit(session: Session, wiring: JobWiring, job: Job) -> None:
    # Told before it is enqueued: with worker nodes (issue 20) the worker's "running" would otherwise
    # reach the browsers before this "queued", and leave them showing a done job as queued.
    db.on_commit(session, lambda: wiring.hub.job_changed(job))
    if job.status == JobStatus.QUEUED:
        eta = job.run_after if job.run_after and job.run_after > utcnow() else None
        job_id = stored_id(job)
        db.on_commit(session, lambda: wiring.queues.enqueue(job.queue_name, job_id, job.priority, eta=eta))
    if job.status in FINISHED and wiring.plugins is not None:  # plugins
        plugins = wiring.plugins
        db.on_commit(session, lambda: plugins.notify("on_job_finished", job=job))


def list_jobs(
    *,
    session: Session,
    actor: User,
    status: str | None = None,
    queue_name: str | None = None,
    priority: str | None = None,
    type: str | None = None,
    search: str | None = None,
    scheduler_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """A page of the jobs `actor` sees, newest first (by id: ids follow creation order), and the total matching."""
    filters: list[ColumnElement[bool]] = []
    equal: tuple[tuple[Any, Any], ...] = (
        (Job.created_by, owner_filter(actor)),
        (Job.status, status),
        (Job.queue_name, queue_name),
        (Job.priority, priority),
        (Job.type, type),
        (Job.scheduler_id, scheduler_id),
    )
    for column, value in equal:
        if value is not None:
            filters.append(col(column) == value)
    if search:
        # icontains: SQLite's LIKE ignores (ASCII) case, PostgreSQL's would not; the search must not differ.
        filters.append(col(Job.name).icontains(search, autoescape=True))
    items = session.exec(select(Job).where(*filters).order_by(col(Job.id).desc()).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(Job).where(*filters)).one()
    return list(items), total


def get_job(*, session: Session, job_id: int, actor: User) -> Job:
    """The job, or 404 when it does not exist or `actor` may not see it (no hint which)."""
    job = session.get(Job, job_id)
    owner = owner_filter(actor)
    if job is None or (owner is not None and job.created_by != owner):
        raise AppError(f"Job {job_id} not found", 404)
    return job


def update_job(*, session: Session, wiring: JobWiring, job_id: int, actor: User, changes: dict[str, Any]) -> Job:
    """Edit a job that is not running; a queued job is enqueued again if its queue or priority moved."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    check_may_run(actor, JobType(job.type))
    _refuse_while_running(job, "changed")
    try:
        merged = JobSpec.model_validate({**JobSpec.of(job).model_dump(exclude_none=True), **changes})
    except ValidationError as exc:  # a change out of bounds (say, max_retries 2136) names its field
        raise from_validation(exc) from None
    check_may_run(actor, merged.type)
    spec = merged.checked(wiring.scripts)
    before = (job.queue_name, job.priority)
    for name, value in spec.model_dump().items():
        setattr(job, name, value)
    job.name = spec.display_name()
    session.add(job)
    session.flush()
    if job.status == JobStatus.QUEUED and before != (job.queue_name, job.priority):
        _after_commit(session, wiring, job)
    else:
        db.on_commit(session, lambda: wiring.hub.job_changed(job))
    if job.status in FINISHED and wiring.plugins is not None:  # plugins
        plugins = wiring.plugins
        db.on_commit(session, lambda: plugins.notify("on_job_finished", job=job))
    return job


def set_status(*, session: Session, wiring: JobWiring, job_id: int, actor: User, to: JobStatus) -> Job:
    """A status change asked for by a person: only the MANUAL moves; re-queueing starts over (and
    runs the job again, so a command job needs a superuser)."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    if to == JobStatus.QUEUED:
        check_may_run(actor, JobType(job.type))
    allowed = MANUAL.get(JobStatus(job.status), frozenset())
    if to not in allowed:
        choices = ", ".join(sorted(allowed)) or "nothing (kill a running job)"
        raise AppError(f"Job {job.id} is {job.status}; it can become: {choices}", 409)
    values: dict[str, Any] = {}
    if to == JobStatus.QUEUED and job.status in FINISHED:
        values = {"attempt": 0, "error": None, "result": None, "run_after": None}
    elif to == JobStatus.CANCELLED:
        values = {"error": f"cancelled by {actor.username}"}
    moved = transition(session=session, wiring=wiring, job_id=job_id, to=to, expect=[JobStatus(job.status)], **values)
    if moved is None:
        raise AppError(f"Job {job.id} changed meanwhile; reload it", 409)
    audit.record(session, action="job.status", target=f"{_what(job)}: {job.status} -> {to}", actor=actor)  # issue 17
    return moved


def kill_job(*, session: Session, wiring: JobWiring, job_id: int, actor: Actor) -> Job:
    """Cancel a waiting job at once; stop a running one: it shows `stopping` until every process of
    it (its group and any that escaped it) has ended, then its runner records `cancelled`. A job that
    is stopping or already finished comes back as it is (POST /kill answers 202 or 200)."""
    if isinstance(actor, User):
        job = get_job(session=session, job_id=job_id, actor=actor)
    elif (found := session.get(Job, job_id)) is not None:
        job = found
    else:
        raise AppError(f"Job {job_id} not found", 404)
    # A scheduler kills only its own previous run, under its overlap policy "replace".
    by = actor.username if isinstance(actor, User) else f"{actor.label} (replace)"
    if job.status in (JobStatus.QUEUED, JobStatus.PENDING):
        moved = transition(
            session=session,
            wiring=wiring,
            job_id=job_id,
            to=JobStatus.CANCELLED,
            expect=[JobStatus.QUEUED, JobStatus.PENDING],
            error=f"cancelled by {by}",
        )
    elif job.status == JobStatus.RUNNING:
        if job.stopping:
            return job
        moved = mark_stopping(session=session, wiring=wiring, job_id=job_id, reason=f"killed by {by}")
        if moved is not None:
            db.on_commit(session, lambda: _stop(wiring, job_id))
    else:
        return job  # already finished
    if moved is None:
        raise AppError(f"Job {job_id} changed meanwhile; reload it", 409)
    audit.record(session, action="job.kill", target=f"{_what(job)} ({job.status})", actor=_audit_actor(actor))
    return moved


def _stop(wiring: JobWiring, job_id: int) -> None:
    """End the running attempt's processes; its runner records `cancelled` once none is left."""
    if not wiring.controls.stop(job_id, "killed"):
        wiring.hub.kill(job_id)


def delete_job(*, session: Session, wiring: JobWiring, job_id: int, actor: User) -> Job:
    """Delete a job that is not running, and its log once committed. Returns the deleted row."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    _refuse_while_running(job, "deleted")
    session.delete(job)
    audit.record(session, action="job.delete", target=_what(job), actor=actor)  # audit (issue 17)
    path = log_path(wiring.settings.job_logs_dir, job_id)
    db.on_commit(session, lambda: path.unlink(missing_ok=True))
    db.on_commit(session, lambda: wiring.hub.job_deleted(job))
    return job


def _refuse_while_running(job: Job, what: str) -> None:
    if job.status == JobStatus.RUNNING:
        raise AppError(f"Job {job.id} is running; kill it before it can be {what}", 409)


def interrupt(*, session: Session, wiring: JobWiring, job: Job, reason: str, log: JobLog) -> Job | None:
    """A running attempt that will never report back: queued again when attempts remain, else failed.
    The caller opens `log` and closes it after the commit (with worker nodes, a log ships as it
    closes: never inside a transaction)."""
    retry = job.attempt <= job.max_retries
    log.note(f"{reason}; {'queued again' if retry else 'failed'}")
    return transition(
        session=session,
        wiring=wiring,
        job_id=stored_id(job),
        expect=[JobStatus.RUNNING],
        where=[col(Job.attempt) == job.attempt],
        to=JobStatus.QUEUED if retry else JobStatus.FAILED,
        error=reason,
        run_after=None,
    )


def recover(
    *,
    engine: Engine,
    wiring: JobWiring,
    alive: Collection[str],
    end_processes: bool = True,
    reason: str = "interrupted by restart",
) -> None:
    """At start, before the consumers take work: settle what a dead process left behind.

    Jobs `running` under a boot not in `alive` (this one; with worker nodes, every node not declared
    lost) are failed or queued again (or, if they were being stopped, cancelled or failed as
    asked), after ending their process group if it is still the one that job started and every
    process marked as theirs (jobs/processes.py) when `end_processes` (they ran on this machine).
    Then every `queued` job that the queues do not hold is enqueued, once.
    """
    with db.session(engine, readonly=True) as session:
        stale = session.exec(
            select(Job).where(
                col(Job.status) == JobStatus.RUNNING, or_(col(Job.boot_id).not_in(alive), col(Job.boot_id).is_(None))
            )
        ).all()
    settle_lost(engine=engine, wiring=wiring, jobs=stale, reason=reason, end_processes=end_processes)
    try:
        missing = enqueue_missing(engine=engine, wiring=wiring)
    except QueueUnavailable as exc:  # Redis away at start: the lease holder's sweep enqueues them later
        logger.warning("{}; queued jobs without a message are enqueued once it answers", exc)
        missing = 0
    if stale or missing:
        logger.info("recovered {} interrupted jobs; enqueued {} queued jobs again", len(stale), missing)


def settle_lost(
    *, engine: Engine, wiring: JobWiring, jobs: Sequence[Job], reason: str, end_processes: bool = True
) -> None:
    """Running jobs whose runner is gone (a crash, a lost worker node): each ends as its stop asked,
    or is queued again while attempts remain, else failed with `reason`. Guarded by the attempt, so
    a runner that was only slow and reports later changes nothing."""
    if end_processes:
        for job in jobs:  # issue 12: its group, and its marked processes wherever they went
            if processes.end_leftovers(job.pid, job.started_at, processes.job_mark(job.boot_id or "", stored_id(job))):
                logger.warning("ended the leftover processes of job {}", job.id)
    logs = {stored_id(job): wiring.log(stored_id(job)) for job in jobs if not job.stopping}
    try:
        _settle(engine=engine, wiring=wiring, jobs=jobs, reason=reason, logs=logs)
    finally:
        for log in logs.values():
            log.close()


def _settle(*, engine: Engine, wiring: JobWiring, jobs: Sequence[Job], reason: str, logs: dict[int, JobLog]) -> None:
    with db.session(engine) as session:
        for job in jobs:
            if job.stopping:  # issue 12: a kill or timeout was under way: it ends as asked
                to = JobStatus.FAILED if job.stopping.startswith(TIMED_OUT) else JobStatus.CANCELLED
                transition(
                    session=session,
                    wiring=wiring,
                    job_id=stored_id(job),
                    to=to,
                    expect=[JobStatus.RUNNING],
                    where=[col(Job.attempt) == job.attempt],
                    error=job.stopping,
                )
            else:
                interrupt(session=session, wiring=wiring, job=job, reason=reason, log=logs[stored_id(job)])


def enqueue_missing(*, engine: Engine, wiring: JobWiring, queued_before: datetime | None = None) -> int:
    """Enqueue every `queued` job (queued before `queued_before`, if given) that the queues do not
    hold; how many. At start, when the data disk has room again (a message can be lost with a write
    that failed), and with worker nodes now and then (a message lost with a node or while Redis was
    away). A job whose message is in flight meanwhile may get two: the guarded claim runs it once."""
    waiting = wiring.queues.waiting_job_ids()
    since = [col(Job.queued_at) < queued_before] if queued_before is not None else []
    with db.session(engine, readonly=True) as session:
        queued = session.exec(select(Job).where(col(Job.status) == JobStatus.QUEUED, *since)).all()
    missing = [job for job in queued if job.id not in waiting]
    now = utcnow()
    for job in missing:
        eta = job.run_after if job.run_after and job.run_after > now else None
        wiring.queues.enqueue(job.queue_name, stored_id(job), job.priority, eta=eta)
    return len(missing)


def retry_at(job: Job) -> datetime:
    return utcnow() + timedelta(seconds=job.retry_delay_seconds)
