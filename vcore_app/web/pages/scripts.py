"""`/scripts` and `/scripts/{name}`: the registered scripts, and a form generated from each one's input
model that creates a script job and goes to its page."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec
from vcore_app.models import JobPriority
from vcore_app.scripts.base import Script
from vcore_app.scripts.registry import UnknownScript
from vcore_app.web.deps import actor, in_db, runtime
from vcore_app.web.errors import field_messages
from vcore_app.web.forms import fields_of_model, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form


def _script(request: Request) -> type[Script]:
    try:
        return runtime(request).wiring.scripts.get(request.path_params["name"])
    except UnknownScript:
        raise AppError("No such script", 404) from None


async def scripts_index(request: Request) -> Response:
    registry = runtime(request).wiring.scripts
    return render(
        request, "scripts/index.html", {"nav": "Scripts", "scripts": [registry.get(n) for n in registry.names()]}
    )


def _page(request: Request, script: type[Script], status: int = 200, **context: Any) -> Response:
    base = {
        "nav": "Scripts",
        "script": script,
        "fields": fields_of_model(script.Input),
        "values": {},
        "errors": {},
        "error": None,
        "priorities": [p.value for p in JobPriority],
        "job": {"priority": "normal", "queue_name": "default"},
    }
    return render(request, "scripts/run.html", {**base, **context}, status=status)


async def script_page(request: Request) -> Response:
    return _page(request, _script(request))


async def run_script(request: Request) -> Response:
    script = _script(request)
    user, wiring = actor(request), runtime(request).wiring
    posted = await read_form(request)
    job_fields = {"priority": posted.get("priority", "normal"), "queue_name": posted.get("queue_name", "default")}
    spec_body = {"type": "script", "script": script.name, "input": form_values(script.Input, posted), **job_fields}
    try:
        spec = JobSpec.model_validate(spec_body)
    except ValidationError as exc:  # the job fields (priority, queue)
        return _page(request, script, 422, values=posted, job=job_fields, error=str(exc).splitlines()[0])
    try:
        job, _ = await in_db(
            request, lambda session: service.create_job(session=session, wiring=wiring, spec=spec, actor=user)
        )
    except AppError as exc:
        # The form's fields are the script's input: its errors name them under `input`.
        return _page(
            request,
            script,
            exc.status,
            values=posted,
            job=job_fields,
            errors=field_messages(exc.fields, under=("input",)),
            error="Please correct the marked fields.",
        )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
