"""`/schedulers`, `/schedulers/new`, `/schedulers/{id}`: list, create/edit form with a live preview of
the next runs, toggle, run now, delete. Superusers only, like the API; the same domain functions.

The job a scheduler creates is edited with the new-job form's editor (jobs/_editor.html, read back
by web/job_form.py), its fields prefixed `job_`; `/schedulers/new?from_job=ID` fills it from a job
("Schedule this..." on a job's page). Actions answer with a redirect and a flash message."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from vcore_app.errors import AppError, FieldError
from vcore_app.jobs import service as jobs
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import Job, JobScheduler, JobType
from vcore_app.notify.rules import default_events
from vcore_app.schedulers import service
from vcore_app.scripts.registry import ScriptRegistry
from vcore_app.settings import NOTIFY_RULE_EVENTS
from vcore_app.web import flash
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.errors import field_messages
from vcore_app.web.job_form import (
    EDITOR_FIELDS,
    editor_choices,
    editor_errors,
    editor_values,
    posted_values,
    spec_errors,
    spec_input,
)
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form

JOB = "job_"  # the prefix of the job editor's fields in the scheduler form
# The scheduler has notifications of its own (a rule for all its jobs), so its job editor has none.
_JOB_FIELDS = EDITOR_FIELDS - {"notify"}
# What a scheduler does not copy from a job: its bookkeeping (`meta`), its name (the scheduler's
# jobs are named after it), its notifications (the scheduler's own apply).
_NOT_COPIED = {"meta", "name", "notify"}
_ZONES = sorted(available_timezones())
_ALL = 10_000  # the page lists every scheduler; there are a handful, not thousands


def _scheduler_id(request: Request) -> int:
    scheduler_id: int = request.path_params["scheduler_id"]
    return scheduler_id


async def schedulers_index(request: Request) -> Response:
    user = actor(request)

    def work(session: Session) -> dict[str, Any]:
        rows, _ = service.list_schedulers(session=session, actor=user, limit=_ALL, offset=0, by_name=True)
        return {"schedulers": rows, "last": service.last_jobs(session=session, schedulers=rows)}

    context = await in_db(request, work, readonly=True)
    return render(request, "schedulers/index.html", {"nav": "Schedulers", **context})


def _form_values(scheduler: JobScheduler | None, default_timezone: str) -> dict[str, Any]:
    if scheduler is None:
        return {
            "trigger_type": "cron",
            "cron": "0 3 * * *",
            "timezone": default_timezone,
            "enabled": True,
            "overlap_policy": "skip",
            "misfire_policy": "run_once",
            "env_name": "",
        }
    return scheduler.model_dump()


def _notify_form_values(rule: dict[str, Any], defaults: list[str]) -> dict[str, Any]:
    """A stored notify rule as the form's fields (issue 14): a box per event, channel names, a limit."""
    values: dict[str, Any] = {
        "notify_custom": True,
        "notify_channels": ", ".join(rule.get("channels") or []),
        "notify_long_running_seconds": rule.get("long_running_seconds") or "",
    }
    events = rule.get("events")
    chosen = defaults if events is None else events
    values.update({f"notify_event_{event}": event in chosen for event in NOTIFY_RULE_EVENTS})
    return values


def _notify_payload(form: dict[str, str]) -> dict[str, Any] | None:
    """The form's notification fields as a notify rule; None (the defaults) unless customised."""
    if "notify_custom" not in form:
        return None
    channels = [name.strip() for name in form.get("notify_channels", "").split(",") if name.strip()]
    return {
        "events": [event for event in NOTIFY_RULE_EVENTS if f"notify_event_{event}" in form],
        "channels": channels or None,
        "long_running_seconds": form.get("notify_long_running_seconds") or None,
    }


def _form_page(
    request: Request,
    scheduler: JobScheduler | None,
    values: dict[str, Any],
    job: dict[str, str],
    errors: dict[str, str] | None = None,
    runs: list[Job] | None = None,
    status: int = 200,
) -> Response:
    rule, defaults = values.get("notify"), default_events(settings(request))
    if isinstance(rule, dict) and rule:
        values = {**values, **_notify_form_values(rule, defaults)}
    return render(
        request,
        "schedulers/form.html",
        {
            "nav": "Schedulers",
            "scheduler": scheduler,
            "values": values,
            "job": job,
            "job_prefix": JOB,
            "errors": errors or {},
            "runs": runs or [],
            "zones": _ZONES,
            "notify_events": NOTIFY_RULE_EVENTS,
            "notify_defaults": defaults,
            **editor_choices(_scripts(request), list(JobType)),
        },
        status=status,
    )


async def new_scheduler_page(request: Request) -> Response:
    superuser(request)
    values = _form_values(None, settings(request).TIMEZONE)
    spec: dict[str, Any] = {"type": str(JobType.COMMAND)}
    raw = request.query_params.get("from_job")
    if raw is not None:
        name, spec = await _job_spec(request, raw)
        values["name"] = name
    return _form_page(request, None, values, editor_values(spec, _scripts(request), _JOB_FIELDS))


async def _job_spec(request: Request, raw: str) -> tuple[str, dict[str, Any]]:
    """The name and spec of the job `?from_job=` names, for a scheduler to create it again, as the
    job was asked for (no defaults)."""
    if not raw.isdigit():
        raise AppError(f"from_job must be a job's number, not {raw!r}", 422)
    user, job_id = actor(request), int(raw)
    job = await in_db(request, lambda session: jobs.get_job(session=session, job_id=job_id, actor=user), readonly=True)
    return job.name, JobSpec.of(job).model_dump(mode="json", exclude_defaults=True, exclude=_NOT_COPIED)


async def scheduler_page(request: Request) -> Response:
    user, scheduler_id = actor(request), _scheduler_id(request)

    def work(session: Session) -> tuple[JobScheduler, list[Job]]:
        scheduler = service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user)
        runs, _ = jobs.list_jobs(session=session, actor=user, scheduler_id=scheduler.id, limit=20)
        return scheduler, runs

    scheduler, runs = await in_db(request, work, readonly=True)
    job = editor_values(scheduler.job_template, _scripts(request), _JOB_FIELDS)
    return _form_page(request, scheduler, _form_values(scheduler, scheduler.timezone), job, runs=runs)


def _scripts(request: Request) -> ScriptRegistry:
    return runtime(request).wiring.scripts


def _payload(form: dict[str, str], scripts: ScriptRegistry) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form as an API payload, and the errors found before validation (a job field
    that cannot be read)."""
    payload: dict[str, Any] = {
        key: form.get(key, "")
        for key in ("name", "description", "env_name", "trigger_type", "timezone", "overlap_policy", "misfire_policy")
    }
    payload["enabled"] = "enabled" in form
    payload["notify"] = _notify_payload(form)
    trigger = payload["trigger_type"]
    payload["cron"] = form.get("cron", "") if trigger == "cron" else None
    payload["repeat_every_seconds"] = (form.get("repeat_every_seconds") or None) if trigger == "repeat" else None
    payload["job_template"], errors = spec_input(form, scripts, JOB)
    return payload, errors


def _field_errors(fields: list[FieldError], template: dict[str, Any], scripts: ScriptRegistry) -> dict[str, str]:
    """The domain's errors next to the form's fields: those inside the job template next to the job
    editor's, the others next to the scheduler's (one naming no field by the name)."""
    inside = [error for error in fields if error.loc[1:2] == ("job_template",)]
    outside = [error for error in fields if error.loc[1:2] != ("job_template",)]
    job = editor_errors(inside, template, scripts, JOB, under="job_template")
    return {**field_messages(outside, default="name"), **job}


async def save_scheduler(request: Request) -> Response:
    user = superuser(request)
    form = await read_form(request)
    scheduler_id: int | None = request.path_params.get("scheduler_id")
    payload, errors = _payload(form, _scripts(request))
    wiring = runtime(request).schedulers

    def work(session: Session) -> JobScheduler:
        if scheduler_id is None:
            return service.create_scheduler(session=session, wiring=wiring, payload=payload, actor=user)
        return service.update_scheduler(
            session=session, wiring=wiring, scheduler_id=scheduler_id, payload=payload, actor=user
        )

    if not errors:
        try:
            saved = await in_db(request, work)
        except AppError as exc:
            if exc.status != 422:
                raise
            # The job's errors the form can tell at once, with the scheduler's (the domain stops
            # at the scheduler's fields before it looks at the job).
            template = payload["job_template"]
            errors = {
                **spec_errors(template, _scripts(request), JOB),
                **_field_errors(list(exc.fields), template, _scripts(request)),
            }
        else:
            done = "created" if scheduler_id is None else "saved"
            return flash.redirect(request, f"/schedulers/{saved.id}", f"Scheduler {saved.name} {done}.")
    current = None
    if scheduler_id is not None:
        current = await in_db(
            request,
            lambda session: service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user),
            readonly=True,
        )
    values = {**form, "enabled": "enabled" in form}
    return _form_page(request, current, values, posted_values(form, JOB), errors, status=422)


async def toggle_scheduler(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    toggled = await in_db(
        request,
        lambda session: service.toggle_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user),
    )
    state = "enabled" if toggled.enabled else "disabled"
    return flash.redirect(request, "/schedulers", f"Scheduler {toggled.name} {state}.")


async def run_scheduler_now(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    job = await in_db(
        request, lambda session: service.run_now(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user)
    )
    return flash.redirect(request, f"/jobs/{job.id}", f"Job {job.id} created by the scheduler.")


async def delete_scheduler(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    deleted = await in_db(
        request,
        lambda session: service.delete_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user),
    )
    return flash.redirect(request, "/schedulers", f"Scheduler {deleted.name} deleted.")
