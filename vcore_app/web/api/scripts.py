"""`GET /api/v1/scripts` (name, description, input schema) and `POST /api/v1/scripts/{name}/run`
(creates a script job: 201 with the job, as `POST /api/v1/jobs` would answer)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.models import JobPriority, JobType
from vcore_app.web.deps import actor, in_db, runtime
from vcore_app.web.schemas import JobDetail
from vcore_app.web.validation import json_body


class ScriptRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] = Field(default_factory=dict, description="The script's input (see its input_schema)")
    name: str = Field("", max_length=200)
    priority: JobPriority = JobPriority.NORMAL
    queue_name: QueueName = "default"
    max_retries: int = Field(0, ge=0, le=100)
    timeout_seconds: float | None = Field(None, gt=0, le=7 * 86400)


async def list_scripts(request: Request) -> JSONResponse:
    actor(request)
    return JSONResponse({"items": runtime(request).wiring.scripts.describe()})


async def run_script(request: Request) -> JSONResponse:
    user = actor(request)
    body = await json_body(request, ScriptRun)
    spec = JobSpec(type=JobType.SCRIPT, script=request.path_params["name"], **body.model_dump())
    wiring = runtime(request).wiring
    job = await in_db(request, lambda session: JobDetail.of(
        service.create_job(session=session, wiring=wiring, spec=spec, created_by=user.id)[0]))
    return JSONResponse(job, status_code=201)
