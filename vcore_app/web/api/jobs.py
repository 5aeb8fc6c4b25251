"""JSON handlers for /api/v1/jobs: parse, call jobs.service (which checks who may do what), render.

The job list answers `{"items": [...], "total": N}`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vcore_app.errors import AppError
from vcore_app.filetail import read_range, tail_offset
from vcore_app.jobs import service
from vcore_app.jobs.logs import log_path
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.jobs.views import JobDetail, JobSummary
from vcore_app.models import JobPriority, JobStatus
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.schemas import JobQuery, QueueQuery
from vcore_app.web.validation import json_body, query_params


class JobUpdate(BaseModel):
    """Any field of a JobSpec but its type."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    priority: JobPriority | None = None
    queue_name: QueueName | None = None
    max_retries: int | None = None
    retry_delay_seconds: float | None = None
    timeout_seconds: float | None = None
    meta: dict[str, Any] | None = None
    command: str | None = None
    cwd: str | None = None
    env: dict[str, str] | None = None
    script: str | None = None
    input: dict[str, Any] | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    body: Any = None
    request_timeout_seconds: float | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: JobStatus


class LogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offset: int | None = Field(None, ge=0)
    tail: int | None = Field(None, ge=1, le=100_000)
    download: bool = False


def _job_id(request: Request) -> int:
    job_id: int = request.path_params["job_id"]
    return job_id


async def list_jobs(request: Request) -> JSONResponse:
    query = query_params(request, JobQuery)
    user = actor(request)

    def work(session: Session) -> dict[str, Any]:
        items, total = service.list_jobs(session=session, actor=user, **query.model_dump())
        return {"items": [JobSummary.of(job) for job in items], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))


async def create_job(request: Request) -> JSONResponse:
    user = actor(request)
    spec = await json_body(request, JobSpec)
    key = request.headers.get("idempotency-key") or None
    if key is not None and len(key) > 128:
        raise AppError("Idempotency-Key is longer than 128 characters", 422)
    wiring = runtime(request).wiring

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        job, created = service.create_job(session=session, wiring=wiring, spec=spec, actor=user, idempotency_key=key)
        return JobDetail.of(job), created

    body, created = await in_db(request, work)
    return JSONResponse(body, status_code=201 if created else 200)


async def get_job(request: Request) -> JSONResponse:
    user, job_id = actor(request), _job_id(request)
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(service.get_job(session=session, job_id=job_id, actor=user)),
            readonly=True,
        )
    )


async def update_job(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    changes = (await json_body(request, JobUpdate)).model_dump(exclude_unset=True)
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(
                service.update_job(session=session, wiring=wiring, job_id=job_id, actor=user, changes=changes)
            ),
        )
    )


async def delete_job(request: Request) -> Response:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    await in_db(request, lambda session: service.delete_job(session=session, wiring=wiring, job_id=job_id, actor=user))
    return Response(status_code=204)


async def set_status(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    target = (await json_body(request, StatusChange)).status
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(
                service.set_status(session=session, wiring=wiring, job_id=job_id, actor=user, to=target)
            ),
        )
    )


async def kill_job(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(service.kill_job(session=session, wiring=wiring, job_id=job_id, actor=user)),
        )
    )


async def rerun_job(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(service.rerun_job(session=session, wiring=wiring, job_id=job_id, actor=user)),
        ),
        status_code=201,
    )


async def job_log(request: Request) -> Response:
    """The log as text/plain: all of it, from `offset`, or the last `tail` lines. `X-Log-Size` is
    the offset to ask for next; the file is streamed, never read whole. `download=1` makes it a file
    the browser saves."""
    query = query_params(request, LogQuery)
    user, job_id = actor(request), _job_id(request)
    await in_db(request, lambda session: service.get_job(session=session, job_id=job_id, actor=user), readonly=True)
    path = log_path(settings(request).job_logs_dir, job_id)
    attachment = {"Content-Disposition": f'attachment; filename="job-{job_id}.log"'} if query.download else {}
    if not path.exists():
        return Response(b"", media_type="text/plain", headers={"X-Log-Start": "0", "X-Log-Size": "0", **attachment})
    size = path.stat().st_size
    # Reading the end of a large file backwards is file work, not database work: off the event loop.
    start = await run_in_threadpool(tail_offset, path, query.tail) if query.tail else min(query.offset or 0, size)
    headers = {"X-Log-Start": str(start), "X-Log-Size": str(size), **attachment}
    return StreamingResponse(read_range(path, start, size), media_type="text/plain; charset=utf-8", headers=headers)


async def start_consumer(request: Request) -> JSONResponse:
    superuser(request)
    queue = runtime(request).queues[query_params(request, QueueQuery).queue_name]
    await run_in_threadpool(queue.start)  # starting worker threads, not database work
    return JSONResponse({"queue_name": queue.name, **queue.status()})


async def stop_consumer(request: Request) -> JSONResponse:
    """Pause a queue: running jobs finish, waiting ones stay queued until start-consumer."""
    superuser(request)
    queue = runtime(request).queues[query_params(request, QueueQuery).queue_name]
    queue.request_stop()
    return JSONResponse({"queue_name": queue.name, **queue.status()})


async def push_jobs(request: Request) -> JSONResponse:
    actor(request)
    runtime(request).hub.refresh()
    return JSONResponse({"detail": "pushed"})
