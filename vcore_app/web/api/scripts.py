"""`GET /api/v1/scripts` (name, description, input schema) and `POST /api/v1/scripts/{name}/run`
(creates a script job: 201 with the job, as `POST /api/v1/jobs` would answer)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec
from vcore_app.jobs.views import JobDetail
from vcore_app.models import JobType
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, runtime
from vcore_app.web.schemas import ScriptList, ScriptRun
from vcore_app.web.validation import json_body


@operation("List the scripts, with each one's input schema", tags=["scripts"], responses={200: ScriptList})
async def list_scripts(request: Request) -> JSONResponse:
    actor(request)
    return JSONResponse({"items": runtime(request).wiring.scripts.describe()})


@operation(
    "Run a script as a job",
    tags=["scripts"],
    body=ScriptRun,
    responses={201: JobDetail},
    errors=[403, 507],
    description="The job `POST /api/v1/jobs` makes with `type: script`; a plugin's `prepare_job` may refuse it (422).",
)
async def run_script(request: Request) -> JSONResponse:
    user = actor(request)
    body = await json_body(request, ScriptRun)
    spec = JobSpec(type=JobType.SCRIPT, script=request.path_params["name"], **body.model_dump())
    wiring = runtime(request).wiring
    job = await in_db(
        request,
        lambda session: JobDetail.of(service.create_job(session=session, wiring=wiring, spec=spec, actor=user)[0]),
    )
    return JSONResponse(job, status_code=201)
