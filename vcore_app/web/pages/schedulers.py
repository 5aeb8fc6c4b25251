"""`/schedulers`, `/schedulers/new`, `/schedulers/{id}`: list, create/edit form with a live preview of
the next runs, toggle, run now, delete. Superusers only, like the API; the same domain functions."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import available_timezones

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app.errors import AppError
from vcore_app.jobs import service as jobs
from vcore_app.models import Job, JobScheduler
from vcore_app.notify.rules import default_events
from vcore_app.schedulers import service
from vcore_app.settings import NOTIFY_RULE_EVENTS
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.errors import field_messages
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form

_EXAMPLE_TEMPLATE = {"type": "command", "command": "echo hello", "priority": "normal", "queue_name": "default"}
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
            "job_template": json.dumps(_EXAMPLE_TEMPLATE, indent=2),
        }
    values = scheduler.model_dump()
    values["job_template"] = json.dumps(scheduler.job_template, indent=2)
    return values


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
            "errors": errors or {},
            "runs": runs or [],
            "zones": _ZONES,
            "notify_events": NOTIFY_RULE_EVENTS,
            "notify_defaults": defaults,
        },
        status=status,
    )


async def new_scheduler_page(request: Request) -> Response:
    superuser(request)
    return _form_page(request, None, _form_values(None, settings(request).TIMEZONE))


async def scheduler_page(request: Request) -> Response:
    user, scheduler_id = actor(request), _scheduler_id(request)

    def work(session: Session) -> tuple[JobScheduler, list[Job]]:
        scheduler = service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user)
        runs, _ = jobs.list_jobs(session=session, actor=user, scheduler_id=scheduler.id, limit=20)
        return scheduler, runs

    scheduler, runs = await in_db(request, work, readonly=True)
    return _form_page(request, scheduler, _form_values(scheduler, scheduler.timezone), runs=runs)


def _payload(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form as an API payload, and the errors found before validation (bad JSON)."""
    payload: dict[str, Any] = {
        key: form.get(key, "")
        for key in ("name", "description", "env_name", "trigger_type", "timezone", "overlap_policy", "misfire_policy")
    }
    payload["enabled"] = "enabled" in form
    payload["notify"] = _notify_payload(form)
    trigger = payload["trigger_type"]
    payload["cron"] = form.get("cron", "") if trigger == "cron" else None
    payload["repeat_every_seconds"] = (form.get("repeat_every_seconds") or None) if trigger == "repeat" else None
    try:
        payload["job_template"] = json.loads(form.get("job_template") or "{}")
        return payload, {}
    except ValueError as exc:
        return payload, {"job_template": f"Not valid JSON: {exc}"}


async def save_scheduler(request: Request) -> Response:
    user = superuser(request)
    form = await read_form(request)
    scheduler_id: int | None = request.path_params.get("scheduler_id")
    payload, errors = _payload(form)
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
            # Errors inside the job template name their path; one naming no field shows by the name.
            errors = field_messages(exc.fields, default="name")
        else:
            return RedirectResponse(f"/schedulers/{saved.id}", status_code=303)
    current = None
    if scheduler_id is not None:
        current = await in_db(
            request,
            lambda session: service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user),
            readonly=True,
        )
    return _form_page(request, current, {**form, "enabled": "enabled" in form}, errors, status=422)


async def toggle_scheduler(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    await in_db(
        request,
        lambda session: service.toggle_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user),
    )
    return RedirectResponse("/schedulers", status_code=303)


async def run_scheduler_now(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    job = await in_db(
        request, lambda session: service.run_now(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user)
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def delete_scheduler(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    await in_db(
        request,
        lambda session: service.delete_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user),
    )
    return RedirectResponse("/schedulers", status_code=303)
