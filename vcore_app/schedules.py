"""Schedulers: validation, create/update/toggle/delete, and when each one fires next.

The times themselves are computed in schedule_times.py; this module applies them to rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func
from sqlmodel import Session, select

from vcore_app.errors import AppError, invalid
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import Job, JobScheduler, User, utcnow
from vcore_app.notify.rules import NotifyRule
from vcore_app.schedule_times import (
    UTC,
    check_cron,
    next_cron_time,
    next_repeat_time,
    upcoming,
    zone,
)
from vcore_app.scripts.registry import ScriptRegistry
from vcore_app.web.validation import validation_detail

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


def env_matches(scheduler: JobScheduler, env_name: str) -> bool:
    return scheduler.env_name in ("", "*", env_name)


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
    """Validate a template exactly as `POST /jobs` validates a body; errors point inside job_template."""
    try:
        spec = JobSpec.model_validate(template).checked(scripts)
    except ValidationError as exc:
        raise AppError(validation_detail(exc, ("body", "job_template")), 422) from None
    except AppError as exc:
        if not isinstance(exc.message, list):
            raise
        moved = [{**error, "loc": ["body", "job_template", *error["loc"][1:]]} for error in exc.message]
        raise AppError(moved, 422) from None
    return spec.model_dump(mode="json", exclude_none=True)


M = TypeVar("M", bound=TriggerIn)


def parse_trigger(model: type[M], payload: dict[str, Any], *, default_timezone: str) -> M:
    """Validate the fields, then that the trigger's fields match its type; fill in the zone."""
    try:
        data = model.model_validate(payload)
    except ValidationError as exc:
        raise AppError(validation_detail(exc), 422) from None
    check_trigger_fields(data)
    if data.timezone is None:
        data.timezone = default_timezone
    return data


def parse(payload: dict[str, Any], *, default_timezone: str, scripts: ScriptRegistry) -> SchedulerIn:
    data = parse_trigger(SchedulerIn, payload, default_timezone=default_timezone)
    data.job_template = check_job_template(data.job_template, scripts)
    return data


def create_scheduler(*, session: Session, data: SchedulerIn, created_by: User | None,
                     now: datetime | None = None) -> JobScheduler:
    scheduler = JobScheduler(**data.model_dump(), created_by=created_by.id if created_by else None)
    scheduler.next_run_at = first_run(scheduler, now or utcnow())
    session.add(scheduler)
    session.flush()
    return scheduler


# Changing one of these re-plans the next run; renaming a scheduler or editing its job does not.
_TIMING_FIELDS = ("trigger_type", "repeat_every_seconds", "cron", "timezone", "enabled")


def update_scheduler(*, session: Session, scheduler: JobScheduler, data: SchedulerIn,
                     now: datetime | None = None) -> JobScheduler:
    changes = data.model_dump()
    timing_changed = any(getattr(scheduler, key) != changes[key] for key in _TIMING_FIELDS)
    for key, value in changes.items():
        setattr(scheduler, key, value)
    scheduler.updated_at = now or utcnow()
    if timing_changed:
        scheduler.next_run_at = first_run(scheduler, scheduler.updated_at)
    session.add(scheduler)
    return scheduler


def toggle_scheduler(*, session: Session, scheduler: JobScheduler, now: datetime | None = None) -> JobScheduler:
    """Enable or disable. Enabling never fires an on_start scheduler: that happens once per boot."""
    scheduler.enabled = not scheduler.enabled
    scheduler.updated_at = now or utcnow()
    scheduler.next_run_at = first_run(scheduler, scheduler.updated_at)
    session.add(scheduler)
    return scheduler


def get_scheduler(*, session: Session, scheduler_id: int) -> JobScheduler:
    scheduler = session.get(JobScheduler, scheduler_id)
    if scheduler is None:
        raise AppError("Scheduler not found", 404)
    return scheduler


def last_jobs(*, session: Session, schedulers: list[JobScheduler]) -> dict[int, Job]:
    """The latest job of each scheduler, by id, in one query (for "last run" columns)."""
    ids = [scheduler.last_job_id for scheduler in schedulers if scheduler.last_job_id]
    return {job.id: job for job in session.exec(select(Job).where(Job.id.in_(ids))).all()} if ids else {}


def list_schedulers(*, session: Session, limit: int, offset: int) -> tuple[list[JobScheduler], int]:
    rows = session.exec(select(JobScheduler).order_by(JobScheduler.id).offset(offset).limit(limit)).all()
    total = session.exec(select(func.count()).select_from(JobScheduler)).one()
    return list(rows), total
