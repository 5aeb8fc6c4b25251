"""JSON handlers for /api/v1/jobs: parse, check the role, call jobs.service, render.

The job list answers `{"items": [...], "total": N}`. Database work runs in the thread pool: a writer
may wait for SQLite's lock, and the event loop must not wait with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vcore_app import db
from vcore_app.auth.guards import current_user, require_superuser
from vcore_app.errors import AppError
from vcore_app.filetail import read_range, tail_offset
from vcore_app.jobs import service
from vcore_app.jobs.logs import log_path
from vcore_app.jobs.service import JobWiring
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.models import Job, JobPriority, JobStatus, JobType, User
from vcore_app.web.schemas import JobDetail, JobSummary
from vcore_app.web.validation import json_body, query_params

T = TypeVar("T")


class JobQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: JobStatus | None = None
    queue_name: QueueName | None = None
    priority: JobPriority | None = None
    type: JobType | None = None
    search: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


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


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue_name: QueueName


async def in_session(request: Request, work: Callable[[Session, JobWiring], T], *, readonly: bool = False) -> T:
    """Run `work` in one session in the thread pool (the job pages use it too)."""
    runtime = request.app.state.runtime
    return await db.run(runtime.engine, lambda session: work(session, runtime.wiring), readonly=readonly)


def _job_id(request: Request) -> int:
    return request.path_params["job_id"]


async def list_jobs(request: Request) -> JSONResponse:
    query = query_params(request, JobQuery)
    owner = service.owner_filter(current_user(request))

    def work(session: Session, _wiring: JobWiring) -> dict[str, Any]:
        items, total = service.list_jobs(session=session, owner=owner, **query.model_dump())
        return {"items": [JobSummary.of(job) for job in items], "total": total}

    return JSONResponse(await in_session(request, work, readonly=True))


async def create_job(request: Request) -> JSONResponse:
    user = current_user(request)
    spec = await json_body(request, JobSpec)
    service.check_may_run(user, spec)
    key = request.headers.get("idempotency-key") or None
    if key is not None and len(key) > 128:
        raise AppError("Idempotency-Key is longer than 128 characters", 422)

    def work(session: Session, wiring: JobWiring) -> tuple[dict[str, Any], bool]:
        job, created = service.create_job(session=session, wiring=wiring, spec=spec, created_by=user.id,
                                          idempotency_key=key)
        return JobDetail.of(job), created

    body, created = await in_session(request, work)
    return JSONResponse(body, status_code=201 if created else 200)


async def get_job(request: Request) -> JSONResponse:
    owner = service.owner_filter(current_user(request))
    job_id = _job_id(request)

    def work(session: Session, _wiring: JobWiring) -> dict[str, Any]:
        return JobDetail.of(service.get_job(session=session, job_id=job_id, owner=owner))

    return JSONResponse(await in_session(request, work, readonly=True))


def _change(request: Request, user: User, change: Callable[[Session, JobWiring, Job], Job | None]
            ) -> Callable[[Session, JobWiring], dict[str, Any] | None]:
    """Load a job the user may see, apply `change`, render the result."""
    job_id = _job_id(request)

    def work(session: Session, wiring: JobWiring) -> dict[str, Any] | None:
        job = service.get_job(session=session, job_id=job_id, owner=service.owner_filter(user))
        changed = change(session, wiring, job)
        return JobDetail.of(changed) if changed is not None else None

    return work


async def update_job(request: Request) -> JSONResponse:
    user = current_user(request)
    changes = (await json_body(request, JobUpdate)).model_dump(exclude_unset=True)

    def change(session: Session, wiring: JobWiring, job: Job) -> Job:
        if job.type == JobType.COMMAND:
            require_superuser(request)
        return service.update_job(session=session, wiring=wiring, job=job, changes=changes)

    return JSONResponse(await in_session(request, _change(request, user, change)))


async def delete_job(request: Request) -> Response:
    user = current_user(request)

    def change(session: Session, wiring: JobWiring, job: Job) -> None:
        service.delete_job(session=session, wiring=wiring, job=job)

    await in_session(request, _change(request, user, change))
    return Response(status_code=204)


async def set_status(request: Request) -> JSONResponse:
    user = current_user(request)
    target = (await json_body(request, StatusChange)).status

    def change(session: Session, wiring: JobWiring, job: Job) -> Job:
        if target == JobStatus.QUEUED and job.type == JobType.COMMAND:
            require_superuser(request)
        return service.set_status(session=session, wiring=wiring, job=job, to=target, by=user.username)

    return JSONResponse(await in_session(request, _change(request, user, change)))


async def kill_job(request: Request) -> JSONResponse:
    user = current_user(request)

    def change(session: Session, wiring: JobWiring, job: Job) -> Job:
        return service.kill_job(session=session, wiring=wiring, job=job, by=user.username)

    body = await in_session(request, _change(request, user, change))
    # 202 while its processes are being ended (`stopping`); 200 once it is cancelled or had finished.
    return JSONResponse(body, status_code=202 if body and body["status"] == JobStatus.RUNNING else 200)


async def rerun_job(request: Request) -> JSONResponse:
    user = current_user(request)

    def change(session: Session, wiring: JobWiring, job: Job) -> Job:
        return service.rerun_job(session=session, wiring=wiring, job=job, user=user)

    return JSONResponse(await in_session(request, _change(request, user, change)), status_code=201)


async def job_log(request: Request) -> Response:
    """The log as text/plain: all of it, from `offset`, or the last `tail` lines. `X-Log-Size` is
    the offset to ask for next; the file is streamed, never read whole. `download=1` makes it a file
    the browser saves."""
    query = query_params(request, LogQuery)
    owner = service.owner_filter(current_user(request))
    job_id = _job_id(request)
    await in_session(request, lambda session, _w: service.get_job(session=session, job_id=job_id, owner=owner),
                readonly=True)
    path = log_path(request.app.state.settings.job_logs_dir, job_id)
    attachment = {"Content-Disposition": f'attachment; filename="job-{job_id}.log"'} if query.download else {}
    if not path.exists():
        return Response(b"", media_type="text/plain", headers={"X-Log-Start": "0", "X-Log-Size": "0", **attachment})
    size = path.stat().st_size
    start = await run_in_threadpool(tail_offset, path, query.tail) if query.tail else min(query.offset or 0, size)
    headers = {"X-Log-Start": str(start), "X-Log-Size": str(size), **attachment}
    return StreamingResponse(read_range(path, start, size), media_type="text/plain; charset=utf-8", headers=headers)


async def start_consumer(request: Request) -> JSONResponse:
    require_superuser(request)
    queue = request.app.state.runtime.queues[query_params(request, QueueQuery).queue_name]
    await run_in_threadpool(queue.start)
    return JSONResponse({"queue_name": queue.name, **queue.status()})


async def stop_consumer(request: Request) -> JSONResponse:
    """Pause a queue: running jobs finish, waiting ones stay queued until start-consumer."""
    require_superuser(request)
    queue = request.app.state.runtime.queues[query_params(request, QueueQuery).queue_name]
    queue.request_stop()
    return JSONResponse({"queue_name": queue.name, **queue.status()})


async def push_jobs(request: Request) -> JSONResponse:
    current_user(request)
    request.app.state.runtime.hub.refresh()
    return JSONResponse({"detail": "pushed"})
