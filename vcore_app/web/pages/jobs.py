"""`/jobs`, `/jobs/new`, `/jobs/{id}`: the job list, the new-job form, and one job with its live log.

Handlers call jobs.service as the JSON API does (web/api/jobs.py). Actions are plain POST forms
answered with a redirect and a flash message, so every page works without JavaScript; jobs.js adds
the live parts (WebSocket updates, the log stream, the type-dependent form sections).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, get_args
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vcore_app.auth.guards import current_user
from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.logs import log_path
from vcore_app.jobs.service import JobWiring
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.models import Job, JobPriority, JobStatus, JobType, User
from vcore_app.web import flash
from vcore_app.web.api.jobs import JobQuery, in_session
from vcore_app.web.charts import table_chart
from vcore_app.web.pages.login import safe_next
from vcore_app.web.templating import render
from vcore_app.web.validation import form_fields, validate, validation_detail

# The log view starts with this much of the end of the file; the whole file is a download away.
LOG_TAIL_BYTES = 256 * 1024
# Which actions a job offers in each status (what service.kill_job and delete_job accept). A live
# page re-reads its actions from the server when the status changes (jobs.js).
KILLABLE = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
DELETABLE = tuple(status for status in JobStatus if status != JobStatus.RUNNING)
# The fields of the new-job form: shared ones, and per type the ones of its section. Fields of the
# other sections are ignored, so switching the type never leaves stale values in the spec.
COMMON_FIELDS = ("name", "priority", "queue_name", "max_retries", "retry_delay_seconds", "timeout_seconds")
SECTION_FIELDS: dict[JobType, tuple[str, ...]] = {
    JobType.COMMAND: ("command", "cwd"),
    JobType.SCRIPT: ("script", "input"),
    JobType.API_POST: ("url", "headers", "body"),
}
JSON_FIELDS = frozenset({"input", "headers", "body"})


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they are UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def format_duration(seconds: float) -> str:
    """`4.2 s`, `3 min 05 s`, `2 h 07 min` (jobs.js formats running jobs the same way)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def duration(job: Job) -> str:
    started, finished = _aware(job.started_at), _aware(job.finished_at)
    if started is None:
        return ""
    return format_duration(((finished or datetime.now(timezone.utc)) - started).total_seconds())


def iso(moment: datetime | None) -> str:
    """What jobs.js reads back from data attributes (UTC with its zone, so no browser guesses)."""
    aware = _aware(moment)
    return aware.isoformat() if aware is not None else ""


def when(moment: datetime | None) -> str:
    aware = _aware(moment)
    return aware.strftime("%Y-%m-%d %H:%M:%S") if aware is not None else ""


def _helpers() -> dict[str, Any]:
    """What the job templates use besides their data."""
    return {"killable": [str(s) for s in KILLABLE], "deletable": [str(s) for s in DELETABLE],
            "duration": duration, "iso": iso, "when": when}


# -- the list --------------------------------------------------------------------------------------

def _list_url(query: JobQuery, offset: int) -> str:
    params = query.model_dump(exclude_none=True, exclude_defaults=True, exclude={"offset"})
    if offset:
        params["offset"] = offset
    return "/jobs" + (f"?{urlencode(params)}" if params else "")


async def jobs_page(request: Request) -> HTMLResponse:
    # The filter form sends empty fields for "any"; they are no filter, not invalid values.
    query = validate(JobQuery, {k: v for k, v in request.query_params.items() if v != ""}, prefix=("query",))
    owner = service.owner_filter(current_user(request))

    def work(session: Session, _wiring: JobWiring) -> tuple[list[Job], int]:
        return service.list_jobs(session=session, owner=owner, **query.model_dump())

    items, total = await in_session(request, work, readonly=True)
    pager = {
        "first": query.offset + 1 if items else 0,
        "last": query.offset + len(items),
        "previous": _list_url(query, max(query.offset - query.limit, 0)) if query.offset else None,
        "next": _list_url(query, query.offset + query.limit) if query.offset + query.limit < total else None,
    }
    return render(request, "jobs/list.html", {
        "nav": "Jobs", "jobs": items, "total": total, "query": query, "pager": pager,
        "here": _list_url(query, query.offset), "statuses": list(JobStatus), "types": list(JobType),
        "priorities": list(JobPriority), "queues": get_args(QueueName), **_helpers(),
    })


# -- one job ---------------------------------------------------------------------------------------

def result_tables(result: Any, path: str = "", depth: int = 0) -> list[tuple[str, list[str], list[dict[str, Any]]]]:
    """Lists of objects in a result, as (path, columns, rows): the result itself, or lists inside
    objects a few levels down (a script's {"output": {"largest": [{...}, ...]}} gets "output.largest").
    A script's `Output` ({"kind": "table", "records": [...]}) is one table without a title."""
    if isinstance(result, dict) and result.get("kind") == "table" and isinstance(result.get("records"), list):
        return result_tables(result["records"], "", depth)
    if isinstance(result, list) and result and all(isinstance(row, dict) for row in result):
        return [(path, list(dict.fromkeys(key for row in result for key in row)), result)]
    if isinstance(result, dict) and depth < 3:
        return [table for key, value in result.items()
                for table in result_tables(value, f"{path}.{key}" if path else str(key), depth + 1)]
    return []


def cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def job_page(request: Request) -> HTMLResponse:
    job_id = request.path_params["job_id"]
    owner = service.owner_filter(current_user(request))
    job = await in_session(request, lambda session, _w: service.get_job(session=session, job_id=job_id, owner=owner),
                           readonly=True)
    path = log_path(request.app.state.settings.job_logs_dir, job_id)
    try:
        size = path.stat().st_size
    except FileNotFoundError:  # nothing written yet
        size = 0
    return render(request, "jobs/detail.html", {
        "nav": "Jobs", "job": job, "log_start": max(size - LOG_TAIL_BYTES, 0),
        "result_json": json.dumps(job.result, indent=2, ensure_ascii=False) if job.result is not None else None,
        "tables": result_tables(job.result), "cell": cell, "chart": table_chart(job.result), **_helpers(),
    })


# -- actions ---------------------------------------------------------------------------------------

Action = Callable[[Session, JobWiring, Job, User], Job | None]
Outcome = Callable[[int, Job | None], tuple[str, str]]  # (job id, changed job) -> (where to go, message)


async def _act(request: Request, act: Action, outcome: Outcome) -> Response:
    """Apply `act` to the job of the path and redirect with a flash: to the form's `next` if it sent
    one, else where `outcome` says. A refusal the user can act on (a running job cannot be deleted,
    a finished one not killed) is a flash on the page they came from, not an error page."""
    user = current_user(request)
    job_id = request.path_params["job_id"]
    back = (await form_fields(request)).get("next")

    def work(session: Session, wiring: JobWiring) -> Job | None:
        return act(session, wiring, service.get_job(session=session, job_id=job_id, owner=service.owner_filter(user)),
                   user)

    try:
        changed = await in_session(request, work)
    except AppError as exc:
        if exc.status == 404 or not isinstance(exc.message, str):
            raise
        return flash.redirect(request, safe_next(back or f"/jobs/{job_id}"), exc.message, "danger")
    target, message = outcome(job_id, changed)
    return flash.redirect(request, safe_next(back or target), message)


def _killed(session: Session, wiring: JobWiring, job: Job, user: User) -> Job:
    return service.kill_job(session=session, wiring=wiring, job=job, by=user.username)


def _rerun(session: Session, wiring: JobWiring, job: Job, user: User) -> Job:
    return service.rerun_job(session=session, wiring=wiring, job=job, user=user)


def _deleted(session: Session, wiring: JobWiring, job: Job, _user: User) -> None:
    service.delete_job(session=session, wiring=wiring, job=job)


async def kill_job(request: Request) -> Response:
    return await _act(request, _killed, lambda job_id, _job: (f"/jobs/{job_id}", f"Job {job_id} cancelled."))


async def rerun_job(request: Request) -> Response:
    def outcome(job_id: int, new: Job | None) -> tuple[str, str]:
        assert new is not None
        return f"/jobs/{new.id}", f"Job {new.id} created from job {job_id}."

    return await _act(request, _rerun, outcome)


async def delete_job(request: Request) -> Response:
    return await _act(request, _deleted, lambda job_id, _job: ("/jobs", f"Job {job_id} deleted."))


# -- a new job -------------------------------------------------------------------------------------

def _new_form(request: Request, user: User, values: dict[str, str], errors: dict[str, str],
              status: int = 200) -> HTMLResponse:
    types = [t for t in JobType if t is not JobType.COMMAND or user.is_superuser]
    defaults = {"type": str(types[0]), "priority": str(JobPriority.NORMAL), "queue_name": "default",
                "max_retries": "0", "retry_delay_seconds": "0", "input": "{}"}
    return render(request, "jobs/new.html", {
        "nav": "Jobs", "values": {**defaults, **values}, "errors": errors, "types": types,
        "priorities": list(JobPriority), "queues": get_args(QueueName),
        "scripts": request.app.state.runtime.wiring.scripts.describe(),
    }, status=status)


def spec_errors(detail: Any) -> dict[str, str]:
    """A 422 detail -> {form field: message}. A nested location (a script's input field) is shown
    on its top-level field with the rest of the path in front: `input`: "path: Field required"."""
    errors: dict[str, str] = {}
    for error in detail if isinstance(detail, list) else []:
        loc = [str(part) for part in error.get("loc", [])[1:]] or ["type"]
        inner = ".".join(loc[1:])
        errors.setdefault(loc[0], f"{inner}: {error['msg']}" if inner else error["msg"])
    return errors


def spec_input(posted: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form -> JobSpec input and the errors of fields that are not valid JSON.

    Empty fields are left out, so a missing command reads "Field required for a command job"."""
    try:
        section = SECTION_FIELDS[JobType(posted.get("type", ""))]
    except ValueError:
        section = ()
    data: dict[str, Any] = {"type": posted.get("type", "")}
    errors: dict[str, str] = {}
    for name in (*COMMON_FIELDS, *section):
        raw = posted.get(name, "").strip()
        if not raw:
            continue
        if name in JSON_FIELDS:
            try:
                data[name] = json.loads(raw)
            except ValueError as exc:
                errors[name] = f"Not valid JSON: {exc}"
        else:
            data[name] = posted[name]
    return data, errors


async def new_job_page(request: Request) -> HTMLResponse:
    return _new_form(request, current_user(request), {}, {})


async def create_job(request: Request) -> Response:
    user = current_user(request)
    posted = await form_fields(request)
    data, errors = spec_input(posted)
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        return _new_form(request, user, posted, {**spec_errors(validation_detail(exc)), **errors}, 422)
    if errors:
        return _new_form(request, user, posted, errors, 422)

    def work(session: Session, wiring: JobWiring) -> Job:
        service.check_may_run(user, spec)
        return service.create_job(session=session, wiring=wiring, spec=spec, created_by=user.id)[0]

    try:
        job = await in_session(request, work)
    except AppError as exc:
        if exc.status == 403:
            return _new_form(request, user, posted, {"type": str(exc.message)}, 403)
        if exc.status == 422:
            return _new_form(request, user, posted, spec_errors(exc.message), 422)
        raise
    return flash.redirect(request, f"/jobs/{job.id}", f"Job {job.id} created.")

