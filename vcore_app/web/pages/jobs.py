"""`/jobs`, `/jobs/new`, `/jobs/{id}`: the job list, the new-job form, and one job with its live log.

Handlers call jobs.service as the JSON API does (web/api/jobs.py). Actions are plain POST forms
answered with a redirect and a flash message, so every page works without JavaScript; jobs.js adds
the live parts (WebSocket updates, the log stream, the type-dependent form sections).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_args
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.llm import explain
from vcore_app.models import Job, JobExplanation, JobPriority, JobStatus, JobType, User
from vcore_app.schedulers import service as scheduler_service
from vcore_app.scripts.registry import ScriptRegistry
from vcore_app.web import flash
from vcore_app.web.charts import table_chart
from vcore_app.web.deps import actor, in_db, runtime
from vcore_app.web.job_form import (
    EDITOR_FIELDS,
    editor_choices,
    editor_errors,
    editor_values,
    posted_values,
    spec_errors,
    spec_input,
)
from vcore_app.web.pages.login import safe_next
from vcore_app.web.schemas import JobQuery
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form, validate

# The log view starts with this much of the end of the file; the whole file is a download away.
LOG_TAIL_BYTES = 256 * 1024
# Which actions a job offers in each status (what service.kill_job and delete_job accept). A live
# page re-reads its actions from the server when the status changes (jobs.js).
KILLABLE = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
DELETABLE = tuple(status for status in JobStatus if status != JobStatus.RUNNING)


def _helpers() -> dict[str, Any]:
    """What the job templates use besides their data."""
    return {"killable": [str(s) for s in KILLABLE], "deletable": [str(s) for s in DELETABLE]}


# -- the list --------------------------------------------------------------------------------------


def _list_url(query: JobQuery, offset: int) -> str:
    params = query.model_dump(exclude_none=True, exclude_defaults=True, exclude={"offset"})
    if offset:
        params["offset"] = offset
    return "/jobs" + (f"?{urlencode(params)}" if params else "")


async def jobs_page(request: Request) -> HTMLResponse:
    # The filter form sends empty fields for "any"; they are no filter, not invalid values.
    query = validate(JobQuery, {k: v for k, v in request.query_params.items() if v != ""}, prefix=("query",))
    user = actor(request)
    items, total = await in_db(
        request, lambda session: service.list_jobs(session=session, actor=user, **query.model_dump()), readonly=True
    )
    pager = {
        "first": query.offset + 1 if items else 0,
        "last": query.offset + len(items),
        "previous": _list_url(query, max(query.offset - query.limit, 0)) if query.offset else None,
        "next": _list_url(query, query.offset + query.limit) if query.offset + query.limit < total else None,
    }
    return render(
        request,
        "jobs/list.html",
        {
            "nav": "Jobs",
            "jobs": items,
            "total": total,
            "query": query,
            "pager": pager,
            "here": _list_url(query, query.offset),
            "statuses": list(JobStatus),
            "types": list(JobType),
            "priorities": list(JobPriority),
            "queues": get_args(QueueName),
            **_helpers(),
        },
    )


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
        return [
            table
            for key, value in result.items()
            for table in result_tables(value, f"{path}.{key}" if path else str(key), depth + 1)
        ]
    return []


def cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def job_page(request: Request) -> HTMLResponse:
    job_id, user = request.path_params["job_id"], actor(request)

    def read(session: Session) -> tuple[Job, JobExplanation | None, str | None]:
        job = service.get_job(session=session, job_id=job_id, actor=user)
        explanation = explain.latest(session=session, job_id=job_id, actor=user)  # LLM helpers: the kept answer
        made_by = (
            scheduler_service.scheduler_name(session=session, scheduler_id=job.scheduler_id)
            if job.scheduler_id
            else None
        )
        return job, explanation, made_by

    job, explanation, scheduler_name = await in_db(request, read, readonly=True)
    active = runtime(request)
    path = await run_in_threadpool(active.wiring.log_to_read, job_id)
    # A job waiting on a queue this process should consume but does not (stopped): say so (issue 18).
    queue_stopped = job.status == JobStatus.QUEUED and active.queues[job.queue_name].stopped
    try:
        size = path.stat().st_size
    except FileNotFoundError:  # nothing written yet
        size = 0
    return render(
        request,
        "jobs/detail.html",
        {
            "nav": "Jobs",
            "job": job,
            "log_start": max(size - LOG_TAIL_BYTES, 0),
            "explanation": explanation,
            "scheduler_name": scheduler_name,
            "queue_stopped": queue_stopped,
            "result_json": json.dumps(job.result, indent=2, ensure_ascii=False) if job.result is not None else None,
            "tables": result_tables(job.result),
            "cell": cell,
            "chart": table_chart(job.result),
            **_helpers(),
        },
    )


# -- actions ---------------------------------------------------------------------------------------

# (session, wiring, job id, acting user) -> the changed (or new, or deleted) job
Action = Callable[..., Job]
Outcome = Callable[[int, Job], tuple[str, str]]  # (job id, job the action returned) -> (where to go, message)


async def _act(request: Request, act: Action, outcome: Outcome) -> Response:
    """Apply `act` to the job of the path and redirect with a flash: to the form's `next` if it sent
    one, else where `outcome` says. A refusal the user can act on (a running job cannot be deleted,
    a finished one not killed) is a flash on the page they came from, not an error page."""
    user, job_id, wiring = actor(request), request.path_params["job_id"], runtime(request).wiring
    back = (await read_form(request)).get("next")
    try:
        changed = await in_db(request, lambda session: act(session=session, wiring=wiring, job_id=job_id, actor=user))
    except AppError as exc:
        if exc.status == 404:
            raise
        return flash.redirect(request, safe_next(back or f"/jobs/{job_id}"), exc.message, "danger")
    target, message = outcome(job_id, changed)
    return flash.redirect(request, safe_next(back or target), message)


async def kill_job(request: Request) -> Response:
    def outcome(job_id: int, job: Job) -> tuple[str, str]:
        if job.status == JobStatus.RUNNING:  # its processes are being ended (`stopping`)
            return f"/jobs/{job_id}", f"Job {job_id} is stopping."
        return f"/jobs/{job_id}", f"Job {job_id} is {job.status}."

    return await _act(request, service.kill_job, outcome)


async def rerun_job(request: Request) -> Response:
    return await _act(
        request, service.rerun_job, lambda job_id, new: (f"/jobs/{new.id}", f"Job {new.id} created from job {job_id}.")
    )


async def delete_job(request: Request) -> Response:
    return await _act(request, service.delete_job, lambda job_id, _job: ("/jobs", f"Job {job_id} deleted."))


# -- a new job -------------------------------------------------------------------------------------


def _new_form(
    request: Request, user: User, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    types = [t for t in JobType if t is not JobType.COMMAND or user.is_superuser]
    return render(
        request,
        "jobs/new.html",
        {
            "nav": "Jobs",
            "values": {**editor_values({"type": str(types[0])}, runtime(request).wiring.scripts), **values},
            "errors": errors,
            **editor_choices(runtime(request).wiring.scripts, types),
        },
        status=status,
    )


async def new_job_page(request: Request) -> HTMLResponse:
    """The form, pre-filled by a link (the dashboard's "Run your first command") with the editor's
    own fields, shown for the user to read and submit, never run by following the link."""
    prefilled = {name: value for name, value in request.query_params.items() if name in EDITOR_FIELDS}
    scripts = runtime(request).wiring.scripts
    spec, _ = spec_input(prefilled, scripts)  # a field that cannot be read shows as it came, and errs on submit
    return _new_form(request, actor(request), {**editor_values(spec, scripts), **prefilled}, {})


def _spec_errors(exc: AppError, data: dict[str, Any], scripts: ScriptRegistry) -> dict[str, str]:
    """The form's fields are the spec's: a nested error (a script's input field) shows on its
    top-level field, a refusal naming no field (command jobs need a superuser) on the type."""
    return editor_errors(exc.fields, data, scripts) if exc.fields else {"type": exc.message}


async def create_job(request: Request) -> Response:
    user, wiring = actor(request), runtime(request).wiring
    posted = await read_form(request)
    data, errors = spec_input(posted, wiring.scripts)
    errors = {**spec_errors(data, wiring.scripts), **errors}
    if errors:
        return _new_form(request, user, posted_values(posted), errors, 422)
    spec = JobSpec.model_validate(data)
    try:
        job, _ = await in_db(
            request, lambda session: service.create_job(session=session, wiring=wiring, spec=spec, actor=user)
        )
    except AppError as exc:
        if exc.status not in (403, 422):
            raise
        return _new_form(request, user, posted_values(posted), _spec_errors(exc, data, wiring.scripts), exc.status)
    return flash.redirect(request, f"/jobs/{job.id}", f"Job {job.id} created.")
