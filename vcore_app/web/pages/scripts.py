"""`/scripts` and `/scripts/{name}`: the registered scripts, and a form generated from each one's input
model that creates a script job and goes to its page."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app import db
from vcore_app.auth.guards import current_user
from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import JobPriority
from vcore_app.scripts.base import Script
from vcore_app.scripts.registry import UnknownScript
from vcore_app.web.forms import field_errors, form_fields, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import form_fields as posted_fields


def _script(request: Request) -> type[Script]:
    try:
        return request.app.state.runtime.wiring.scripts.get(request.path_params["name"])
    except UnknownScript:
        raise AppError("No such script", 404) from None


async def scripts_index(request: Request) -> Response:
    registry = request.app.state.runtime.wiring.scripts
    return render(request, "scripts/index.html", {"nav": "Scripts", "scripts": [registry.get(n) for n in registry.names()]})


def _page(request: Request, script: type[Script], status: int = 200, **context: Any) -> Response:
    base = {"nav": "Scripts", "script": script, "fields": form_fields(script.Input), "values": {}, "errors": {},
            "error": None, "priorities": [p.value for p in JobPriority], "job": {"priority": "normal",
                                                                                 "queue_name": "default"}}
    return render(request, "scripts/run.html", {**base, **context}, status=status)


async def script_page(request: Request) -> Response:
    return _page(request, _script(request))


async def run_script(request: Request) -> Response:
    script = _script(request)
    user = current_user(request)
    posted = await posted_fields(request)
    job_fields = {"priority": posted.get("priority", "normal"), "queue_name": posted.get("queue_name", "default")}
    spec_body = {"type": "script", "script": script.name, "input": form_values(script.Input, posted), **job_fields}
    wiring = request.app.state.runtime.wiring

    def create() -> int:
        spec = JobSpec.model_validate(spec_body)
        with db.session(request.app.state.runtime.engine) as session:
            job, _ = service.create_job(session=session, wiring=wiring, spec=spec, created_by=user.id)
            return job.id

    try:
        job_id = await run_in_threadpool(create)
    except AppError as exc:
        return _page(request, script, 422, values=posted, errors=field_errors(exc.message), job=job_fields,
                     error="Please correct the marked fields.")
    except ValueError as exc:  # pydantic's ValidationError of the job fields (priority, queue)
        return _page(request, script, 422, values=posted, job=job_fields, error=str(exc).splitlines()[0])
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
