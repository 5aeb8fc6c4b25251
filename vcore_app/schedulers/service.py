"""Schedulers: validation, create/update/toggle/delete/run-now, and when each one fires next.

Superusers only: every function taking `actor` refuses anyone else (a scheduler's job runs as its
creator, command jobs included). Every change wakes the scheduler thread once committed, so it
re-reads the plan at once. The times themselves are computed in times.py; this module applies them
to rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from loguru import logger
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from vcore_app import audit, db
from vcore_app.errors import AppError, from_validation, invalid, invalid_fields
from vcore_app.jobs import service as jobs
from vcore_app.jobs.service import ByScheduler, JobWiring
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import Job, JobScheduler, JobStatus, User
from vcore_app.notify.rules import NotifyRule
from vcore_app.schedulers.times import (
    check_cron,
    next_cron_time,
    next_repeat_time,
    upcoming,
    zone,
)
from vcore_app.scripts.registry import ScriptRegistry

Clock = Callable[[], datetime]
_ACTIVE = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)

TriggerType = Literal["on_start", "repeat", "cron"]
_TRIGGER_FIELDS = {"repeat": "repeat_every_seconds", "cron": "cron"}


class TriggerIn(BaseModel):
    """When a scheduler fires: what the form's live preview sends, and part of every scheduler."""

    trigger_type: TriggerType
    repeat_every_seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    cron: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class SchedulerIn(TriggerIn):
    """What a client sends to create or change a scheduler."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    env_name: str = Field(default="", max_length=64)
    job_template: dict[str, Any]
    enabled: bool = True
    overlap_policy: Literal["skip", "queue", "replace"] = "skip"
    misfire_policy: Literal["run_once", "skip"] = "run_once"
    notify: NotifyRule | None = None


def check_trigger_fields(data: TriggerIn) -> None:
    """The fields of the chosen trigger are given, the others are not: a 422 names the field."""
    for trigger, field in _TRIGGER_FIELDS.items():
        given = getattr(data, field) is not None
        if trigger == data.trigger_type and not given:
            raise invalid(field, f"required when trigger_type is {trigger!r}")
        if trigger != data.trigger_type and given:
            raise invalid(field, f"must be empty when trigger_type is {data.trigger_type!r}")


@dataclass(frozen=True)
class SchedulerWiring:
    """What a scheduler change reaches: the job wiring (run-now creates a job), the scheduler
    thread to wake, the clock (tests drive it) and the zone a scheduler without one gets."""

    jobs: JobWiring
    wake: Callable[[], None]
    clock: Clock
    default_timezone: str


def _require_superuser(actor: User) -> None:
    if not actor.is_superuser:
        raise AppError("This needs a superuser", 403)


def first_run(scheduler: JobScheduler, now: datetime) -> datetime | None:
    """When a new (or re-enabled, or changed) scheduler fires first."""
    if not scheduler.enabled:
        return None
    if scheduler.trigger_type == "repeat":
        return now + timedelta(seconds=scheduler.repeat_every_seconds or 1)
    if scheduler.trigger_type == "cron":
        return next_cron_time(scheduler.cron or "", zone(scheduler.timezone), now)
    return None


def following_run(scheduler: JobScheduler, planned: datetime, now: datetime) -> datetime | None:
    """The next slot strictly after `now`, counted from the planned slot (no drift, no burst)."""
    if scheduler.trigger_type == "repeat":
        return next_repeat_time(planned, scheduler.repeat_every_seconds or 1, max(now, planned))
    if scheduler.trigger_type == "cron":
        return next_cron_time(scheduler.cron or "", zone(scheduler.timezone), max(now, planned))
    return None


def preview(scheduler: JobScheduler, *, count: int, now: datetime) -> list[dict[str, str]]:
    """The next `count` fire times, in the scheduler's zone and in UTC."""
    tz = zone(scheduler.timezone)
    if scheduler.trigger_type == "cron":
        times = upcoming(scheduler.cron or "", tz, now, count)
    elif scheduler.trigger_type == "repeat":
        start = scheduler.next_run_at or first_run(scheduler, now) or now
        every = timedelta(seconds=scheduler.repeat_every_seconds or 1)
        times = [start + every * i for i in range(count)]
    else:
        times = []
    return [{"local": t.astimezone(tz).isoformat(), "utc": t.astimezone(UTC).isoformat()} for t in times]


def check_job_template(template: dict[str, Any], scripts: ScriptRegistry) -> dict[str, Any]:
    """Validate a template exactly as `POST /jobs` validates a body; errors point inside job_template.

    The template is kept as it was sent (its keys in their order, no defaults added), so the form
    shows it back as the person typed it; each run validates it again when it makes the job. Only
    the seed's shape (`command` naming a script or URL) is stored translated to the explicit fields.
    """
    try:
        spec = JobSpec.model_validate(template)
        spec.checked(scripts)
    except ValidationError as exc:
        raise from_validation(exc, ("body", "job_template")) from None
    except AppError as exc:
        if not exc.fields:
            raise
        raise invalid_fields([error.moved(("body", "job_template")) for error in exc.fields]) from None
    if spec.model_fields_set == set(template):
        return template
    return spec.model_dump(mode="json", exclude_unset=True)


M = TypeVar("M", bound=TriggerIn)


def parse_trigger(model: type[M], payload: dict[str, Any], *, default_timezone: str) -> M:
    """Validate the fields, then that the trigger's fields match its type; fill in the zone."""
    try:
        data = model.model_validate(payload)
    except ValidationError as exc:
        raise from_validation(exc) from None
    check_trigger_fields(data)
    if data.timezone is None:
        data.timezone = default_timezone
    return data


def parse(payload: dict[str, Any], *, default_timezone: str, scripts: ScriptRegistry) -> SchedulerIn:
    data = parse_trigger(SchedulerIn, payload, default_timezone=default_timezone)
    data.job_template = check_job_template(data.job_template, scripts)
    return data


def create_scheduler(
    *, session: Session, wiring: SchedulerWiring, payload: dict[str, Any], actor: User
) -> JobScheduler:
    """A new scheduler from a client's payload (422 naming a bad field), owned by `actor`."""
    _require_superuser(actor)
    data = _parse(payload, wiring)
    scheduler = JobScheduler(**data.model_dump(), created_by=actor.id)
    scheduler.next_run_at = first_run(scheduler, wiring.clock())
    session.add(scheduler)
    session.flush()
    audit.record(session, action="scheduler.create", target=_what(scheduler), actor=actor)  # issue 17
    _wake_after_commit(session, wiring)
    return scheduler


def _what(scheduler: JobScheduler) -> str:
    return f"scheduler {scheduler.id} {scheduler.name}"


def _parse(payload: dict[str, Any], wiring: SchedulerWiring) -> SchedulerIn:
    return parse(payload, default_timezone=wiring.default_timezone, scripts=wiring.jobs.scripts)


def _wake_after_commit(session: Session, wiring: SchedulerWiring) -> None:
    db.on_commit(session, wiring.wake)


# Changing one of these re-plans the next run; renaming a scheduler or editing its job does not.
_TIMING_FIELDS = ("trigger_type", "repeat_every_seconds", "cron", "timezone", "enabled")


def update_scheduler(
    *, session: Session, wiring: SchedulerWiring, scheduler_id: int, payload: dict[str, Any], actor: User
) -> JobScheduler:
    """Change the fields `payload` gives (the others keep their values)."""
    scheduler = get_scheduler(session=session, scheduler_id=scheduler_id, actor=actor)
    current = SchedulerIn.model_validate(scheduler, from_attributes=True).model_dump()
    changes = _parse({**current, **payload}, wiring).model_dump()
    timing_changed = any(getattr(scheduler, key) != changes[key] for key in _TIMING_FIELDS)
    for key, value in changes.items():
        setattr(scheduler, key, value)
    scheduler.updated_at = wiring.clock()
    if timing_changed:
        scheduler.next_run_at = first_run(scheduler, scheduler.updated_at)
    session.add(scheduler)
    audit.record(session, action="scheduler.update", target=_what(scheduler), actor=actor)  # issue 17
    _wake_after_commit(session, wiring)
    return scheduler


def toggle_scheduler(*, session: Session, wiring: SchedulerWiring, scheduler_id: int, actor: User) -> JobScheduler:
    """Enable or disable. Enabling never fires an on_start scheduler: that happens once per boot."""
    scheduler = get_scheduler(session=session, scheduler_id=scheduler_id, actor=actor)
    scheduler.enabled = not scheduler.enabled
    scheduler.updated_at = wiring.clock()
    scheduler.next_run_at = first_run(scheduler, scheduler.updated_at)
    session.add(scheduler)
    action = "scheduler.enable" if scheduler.enabled else "scheduler.disable"
    audit.record(session, action=action, target=_what(scheduler), actor=actor)  # issue 17
    _wake_after_commit(session, wiring)
    return scheduler


def delete_scheduler(*, session: Session, wiring: SchedulerWiring, scheduler_id: int, actor: User) -> JobScheduler:
    """Delete a scheduler; its past jobs stay (they keep their scheduler_id as history)."""
    scheduler = get_scheduler(session=session, scheduler_id=scheduler_id, actor=actor)
    session.delete(scheduler)
    audit.record(session, action="scheduler.delete", target=_what(scheduler), actor=actor)  # issue 17
    _wake_after_commit(session, wiring)
    return scheduler


def run_now(*, session: Session, wiring: SchedulerWiring, scheduler_id: int, actor: User) -> Job:
    """A run outside the plan: always creates a job, leaves the planned next run as it is."""
    scheduler = get_scheduler(session=session, scheduler_id=scheduler_id, actor=actor)
    job = launch(session=session, wiring=wiring.jobs, scheduler=scheduler, now=wiring.clock(), respect_overlap=False)
    assert job is not None  # without the overlap policy a job is always made
    return job


def launch(
    *,
    session: Session,
    wiring: JobWiring,
    scheduler: JobScheduler,
    now: datetime,
    planned: datetime | None = None,
    respect_overlap: bool = True,
) -> Job | None:
    """Create the scheduler's job unless its overlap policy says not to; None when skipped.

    The job's meta records the slot it was planned for, so lateness is visible (and measured).
    """
    assert scheduler.id is not None  # a stored row
    acting = ByScheduler(scheduler_id=scheduler.id, owner_id=scheduler.created_by)
    previous = session.get(Job, scheduler.last_job_id) if scheduler.last_job_id else None
    if respect_overlap and previous is not None and previous.status in _ACTIVE:
        if scheduler.overlap_policy == "skip":
            logger.info("scheduler {} skipped a run: job {} is still {}", scheduler.id, previous.id, previous.status)
            wiring.hub.notify("scheduler.skipped")  # metrics (issue 17)
            return None
        if scheduler.overlap_policy == "replace":
            jobs.kill_job(session=session, wiring=wiring, job_id=jobs.stored_id(previous), actor=acting)
    template = scheduler.job_template
    meta = {**(template.get("meta") or {}), "scheduled_for": (planned or now).isoformat()}
    # Named after its scheduler unless the template names it: "nightly backup", not its command line.
    spec = JobSpec.model_validate({**template, "name": template.get("name") or scheduler.name, "meta": meta})
    job, _ = jobs.create_job(session=session, wiring=wiring, spec=spec, actor=acting)
    scheduler.last_run_at = now
    scheduler.last_job_id = job.id
    session.add(scheduler)
    return job


def get_scheduler(*, session: Session, scheduler_id: int, actor: User) -> JobScheduler:
    _require_superuser(actor)
    scheduler = session.get(JobScheduler, scheduler_id)
    if scheduler is None:
        raise AppError("Scheduler not found", 404)
    return scheduler


def scheduler_name(*, session: Session, scheduler_id: int) -> str | None:
    """What a job's page calls the scheduler that made it; None once the scheduler is deleted."""
    scheduler = session.get(JobScheduler, scheduler_id)
    return scheduler.name if scheduler is not None else None


def last_jobs(*, session: Session, schedulers: list[JobScheduler]) -> dict[int, Job]:
    """The latest job of each scheduler, by id, in one query (for "last run" columns)."""
    ids = [scheduler.last_job_id for scheduler in schedulers if scheduler.last_job_id]
    found = session.exec(select(Job).where(col(Job.id).in_(ids))).all() if ids else []
    return {jobs.stored_id(job): job for job in found}


def last_job(*, session: Session, scheduler: JobScheduler) -> Job | None:
    return session.get(Job, scheduler.last_job_id) if scheduler.last_job_id else None


def list_schedulers(
    *, session: Session, actor: User, limit: int, offset: int, by_name: bool = False
) -> tuple[list[JobScheduler], int]:
    """A page of schedulers, by id (the API) or by name (the page), and the total."""
    _require_superuser(actor)
    order = col(JobScheduler.name) if by_name else col(JobScheduler.id)
    rows = session.exec(select(JobScheduler).order_by(order).offset(offset).limit(limit)).all()
    total = session.exec(select(func.count()).select_from(JobScheduler)).one()
    return list(rows), total
