"""`/api/v1/job-schedulers`: superuser-only CRUD, toggle, run-now, preview and the runs of a scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app import db, schedules
from vcore_app.auth.guards import require_superuser
from vcore_app.jobs import service
from vcore_app.models import Job, JobScheduler
from vcore_app.scheduler import launch
from vcore_app.web.schemas import JobDetail, JobSummary
from vcore_app.web.validation import json_body_raw, query_params

T = TypeVar("T")


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class PreviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=10, ge=1, le=100)


def scheduler_out(scheduler: JobScheduler, last_job: Job | None = None) -> dict[str, Any]:
    body = scheduler.model_dump(mode="json")
    body["last_run_status"] = last_job.status if last_job is not None else None
    return body


async def _work(request: Request, work: Callable[[Session], T], *, readonly: bool = False) -> T:
    """Superusers only: then `work` in a short transaction off the event loop."""
    require_superuser(request)
    return await db.run(request.app.state.runtime.engine, work, readonly=readonly)


def _now(request: Request) -> datetime:
    """The runtime's clock (tests drive it), not the wall clock."""
    return request.app.state.runtime.clock()


def _one(request: Request, session: Session) -> JobScheduler:
    return schedules.get_scheduler(session=session, scheduler_id=request.path_params["scheduler_id"])


def _last_job(session: Session, scheduler: JobScheduler) -> Job | None:
    return session.get(Job, scheduler.last_job_id) if scheduler.last_job_id else None


async def _parse(request: Request, payload: dict[str, Any]) -> schedules.SchedulerIn:
    runtime = request.app.state.runtime
    return await run_in_threadpool(schedules.parse, payload, default_timezone=runtime.settings.TIMEZONE,
                                   scripts=runtime.wiring.scripts)


async def list_schedulers(request: Request) -> JSONResponse:
    page = query_params(request, Page)

    def work(session: Session) -> dict[str, Any]:
        rows, total = schedules.list_schedulers(session=session, limit=page.limit, offset=page.offset)
        last = schedules.last_jobs(session=session, schedulers=rows)
        return {"items": [scheduler_out(row, last.get(row.last_job_id)) for row in rows], "total": total}

    return JSONResponse(await _work(request, work, readonly=True))


async def create_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    data = await _parse(request, await json_body_raw(request))
    user = request.user.user
    body = await _work(request, lambda session: scheduler_out(
        schedules.create_scheduler(session=session, data=data, created_by=user, now=_now(request))))
    request.app.state.runtime.scheduler.wake()
    return JSONResponse(body, status_code=201)


async def get_scheduler(request: Request) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        scheduler = _one(request, session)
        return scheduler_out(scheduler, _last_job(session, scheduler))

    return JSONResponse(await _work(request, work, readonly=True))


async def update_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    payload = await json_body_raw(request)
    current = await _work(request, lambda session: schedules.SchedulerIn.model_validate(
        _one(request, session), from_attributes=True).model_dump(), readonly=True)
    data = await _parse(request, {**current, **payload})

    def work(session: Session) -> dict[str, Any]:
        scheduler = schedules.update_scheduler(session=session, scheduler=_one(request, session), data=data,
                                               now=_now(request))
        return scheduler_out(scheduler, _last_job(session, scheduler))

    body = await _work(request, work)
    request.app.state.runtime.scheduler.wake()
    return JSONResponse(body)


async def delete_scheduler(request: Request) -> Response:
    """Its past jobs stay (they keep their scheduler_id as history)."""
    await _work(request, lambda session: schedules.delete_scheduler(session=session, scheduler=_one(request, session)))
    request.app.state.runtime.scheduler.wake()
    return Response(status_code=204)


async def toggle_scheduler(request: Request) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        scheduler = schedules.toggle_scheduler(session=session, scheduler=_one(request, session), now=_now(request))
        return scheduler_out(scheduler, _last_job(session, scheduler))

    body = await _work(request, work)
    request.app.state.runtime.scheduler.wake()
    return JSONResponse(body)


async def run_now(request: Request) -> JSONResponse:
    """A run outside the plan: always creates a job, leaves the planned next run as it is."""
    wiring = request.app.state.runtime.wiring

    def work(session: Session) -> dict[str, Any]:
        job = launch(session=session, wiring=wiring, scheduler=_one(request, session), now=_now(request),
                     respect_overlap=False)
        assert job is not None
        return JobDetail.of(job)

    return JSONResponse(await _work(request, work), status_code=201)


async def preview_scheduler(request: Request) -> JSONResponse:
    query = query_params(request, PreviewQuery)
    scheduler = await _work(request, lambda session: _one(request, session), readonly=True)
    return JSONResponse({"timezone": scheduler.timezone,
                         "times": schedules.preview(scheduler, count=query.count, now=_now(request))})


class DraftPreview(schedules.TriggerIn):
    model_config = ConfigDict(extra="ignore")  # the whole form may come along
    count: int = Field(default=5, ge=1, le=100)


async def preview_draft(request: Request) -> JSONResponse:
    """The fire times of a scheduler not saved yet (the form's live preview); 422 names a bad field."""
    require_superuser(request)
    draft = schedules.parse_trigger(DraftPreview, await json_body_raw(request),
                                    default_timezone=request.app.state.settings.TIMEZONE)
    scheduler = JobScheduler(**draft.model_dump(exclude={"count"}), name="draft")
    return JSONResponse({"timezone": scheduler.timezone,
                         "times": schedules.preview(scheduler, count=draft.count, now=_now(request))})


async def scheduler_jobs(request: Request) -> JSONResponse:
    page = query_params(request, Page)

    def work(session: Session) -> dict[str, Any]:
        scheduler = _one(request, session)
        items, total = service.list_jobs(session=session, owner=None, scheduler_id=scheduler.id,
                                         limit=page.limit, offset=page.offset)
        return {"items": [JobSummary.of(job) for job in items], "total": total}

    return JSONResponse(await _work(request, work, readonly=True))
