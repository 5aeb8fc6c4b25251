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
from vcore_app.jobs.queues import Queue
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.jobs.views import JobDetail, JobSummary
from vcore_app.models import ID_MAX, JobPriority, JobStatus
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, runtime, superuser
from vcore_app.web.schemas import (
    JobBatch,
    JobBatchCreated,
    JobPage,
    JobQuery,
    QueueControl,
    QueueQuery,
    StatusMessage,
)
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
    offset: int | None = Field(None, ge=0, le=ID_MAX)
    tail: int | None = Field(None, ge=1, le=100_000)
    download: bool = False


_CREATE_DOC = (
    "A `command` job runs `/bin/sh -c COMMAND` (superusers only), a `script` job a registered script with "
    "its `input`, an `api_post` job POSTs `body` as JSON to `url`. The seed's form works too: "
    '`{"type": "script", "command": SCRIPT, "meta": INPUT}` and '
    '`{"type": "api_post", "command": URL, "meta": BODY}`. With an `Idempotency-Key` header '
    "(up to 128 characters) a repeated request answers 200 with the job it created the first time."
)


def _job_id(request: Request) -> int:
    job_id: int = request.path_params["job_id"]
    return job_id


@operation("List jobs (a regular user sees its own)", tags=["jobs"], query=JobQuery, responses={200: JobPage})
async def list_jobs(request: Request) -> JSONResponse:
    query = query_params(request, JobQuery)
    user = actor(request)

    def work(session: Session) -> dict[str, Any]:
        items, total = service.list_jobs(session=session, actor=user, **query.model_dump())
        return {"items": [JobSummary.of(job) for job in items], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))


@operation(
    "Create a job",
    tags=["jobs"],
    body=JobSpec,
    responses={201: JobDetail, 200: JobDetail},
    errors=[403, 409, 507],
    description=_CREATE_DOC,
)
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


_BATCH_KEY_MAX = 120  # each job stores `key#index` in the 128 characters of its idempotency key


@operation(
    "Create many jobs at once",
    tags=["jobs"],
    body=JobBatch,
    responses={201: JobBatchCreated, 200: JobBatchCreated},
    errors=[403, 409, 507],
    description=(
        "Up to 1,000 jobs, each as for `POST /api/v1/jobs`, in one transaction: if any is invalid, none "
        'is created and the 422 names its index (`["body", "jobs", 3, "command"]`). Each queue '
        "receives its jobs in one write. With an `Idempotency-Key` header (up to 120 characters) a "
        "repeated batch answers 200 with the jobs it created the first time."
    ),
)
async def create_jobs(request: Request) -> JSONResponse:
    user = actor(request)
    batch = await json_body(request, JobBatch)
    key = request.headers.get("idempotency-key") or None
    if key is not None and len(key) > _BATCH_KEY_MAX:
        raise AppError(f"Idempotency-Key is longer than {_BATCH_KEY_MAX} characters", 422)
    wiring = runtime(request).wiring

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        jobs, created = service.create_jobs(
            session=session, wiring=wiring, specs=batch.jobs, actor=user, idempotency_key=key
        )
        return {"ids": [job.id for job in jobs], "items": [JobSummary.of(job) for job in jobs]}, created

    body, created = await in_db(request, work)
    return JSONResponse(body, status_code=201 if created else 200)


@operation("A job with its spec and result", tags=["jobs"], responses={200: JobDetail})
async def get_job(request: Request) -> JSONResponse:
    user, job_id = actor(request), _job_id(request)
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(service.get_job(session=session, job_id=job_id, actor=user)),
            readonly=True,
        )
    )


@operation(
    "Change a job that is not running", tags=["jobs"], body=JobUpdate, responses={200: JobDetail}, errors=[403, 409]
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


@operation("Delete a job that is not running, with its log", tags=["jobs"], responses={204: "empty"}, errors=[403, 409])
async def delete_job(request: Request) -> Response:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    await in_db(request, lambda session: service.delete_job(session=session, wiring=wiring, job_id=job_id, actor=user))
    return Response(status_code=204)


@operation(
    "Hold, release, cancel or re-queue a job",
    tags=["jobs"],
    body=StatusChange,
    responses={200: JobDetail},
    errors=[403, 409],
)
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


@operation(
    "Kill a running job's processes (202 while they end), or cancel a waiting job (200)",
    tags=["jobs"],
    responses={200: JobDetail, 202: JobDetail},
    errors=[409],
)
async def kill_job(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    body = await in_db(
        request,
        lambda session: JobDetail.of(service.kill_job(session=session, wiring=wiring, job_id=job_id, actor=user)),
    )
    # 202 while its processes are being ended (`stopping`); 200 once it is cancelled or had finished.
    return JSONResponse(body, status_code=202 if body["status"] == JobStatus.RUNNING else 200)


@operation("A new job from this job's spec", tags=["jobs"], responses={201: JobDetail}, errors=[403, 507])
async def rerun_job(request: Request) -> JSONResponse:
    user, job_id, wiring = actor(request), _job_id(request), runtime(request).wiring
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(service.rerun_job(session=session, wiring=wiring, job_id=job_id, actor=user)),
        ),
        status_code=201,
    )


@operation(
    "A job's log as text (all, from an offset, or the last lines)",
    tags=["jobs"],
    query=LogQuery,
    responses={200: "text"},
)
async def job_log(request: Request) -> Response:
    """The log as text/plain: all of it, from `offset`, or the last `tail` lines. `X-Log-Size` is
    the offset to ask for next; the file is streamed, never read whole. `download=1` makes it a file
    the browser saves."""
    query = query_params(request, LogQuery)
    user, job_id = actor(request), _job_id(request)
    await in_db(request, lambda session: service.get_job(session=session, job_id=job_id, actor=user), readonly=True)
    path = await run_in_threadpool(runtime(request).wiring.log_to_read, job_id)
    attachment = {"Content-Disposition": f'attachment; filename="job-{job_id}.log"'} if query.download else {}
    if not path.exists():
        return Response(b"", media_type="text/plain", headers={"X-Log-Start": "0", "X-Log-Size": "0", **attachment})
    size = path.stat().st_size
    # Reading the end of a large file backwards is file work, not database work: off the event loop.
    start = await run_in_threadpool(tail_offset, path, query.tail) if query.tail else min(query.offset or 0, size)
    headers = {"X-Log-Start": str(start), "X-Log-Size": str(size), **attachment}
    return StreamingResponse(read_range(path, start, size), media_type="text/plain; charset=utf-8", headers=headers)


@operation(
    "Start the workers of one queue, or of both",
    tags=["queues"],
    query=QueueQuery,
    responses={200: QueueControl},
    errors=[403],
)
async def start_consumer(request: Request) -> JSONResponse:
    superuser(request)
    queues = _chosen(request)
    for queue in queues:
        await run_in_threadpool(queue.start)  # starting worker threads, not database work
    return _queue_answer(request, f"started {' and '.join(queue.name for queue in queues)}")


@operation(
    "Pause one queue, or both (running jobs finish)",
    tags=["queues"],
    query=QueueQuery,
    responses={200: QueueControl},
    errors=[403],
)
async def stop_consumer(request: Request) -> JSONResponse:
    """Pause a queue: running jobs finish, waiting ones stay queued until start-consumer."""
    superuser(request)
    queues = _chosen(request)
    for queue in queues:
        queue.request_stop()
    return _queue_answer(request, f"stopped {' and '.join(queue.name for queue in queues)}")


def _chosen(request: Request) -> list[Queue]:
    """The queue named by `queue_name`, or both (the seed's clients name none)."""
    name, queues = query_params(request, QueueQuery).queue_name, runtime(request).queues
    return [queues[name]] if name else list(queues.queues.values())


def _queue_answer(request: Request, message: str) -> JSONResponse:
    return JSONResponse({"success": True, "message": message, "queues": runtime(request).queues.status()})


@operation("Send the job list to every open WebSocket now", tags=["jobs"], responses={200: StatusMessage})
async def push_jobs(request: Request) -> JSONResponse:
    actor(request)
    runtime(request).hub.refresh()
    return JSONResponse({"success": True, "message": "job list sent to every open WebSocket"})
