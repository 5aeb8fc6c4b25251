"""`/api/v1/job-schedulers`: superuser-only CRUD, toggle, preview, run-now and runs of a scheduler."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app import db, schedules
from vcore_app.auth.guards import require_superuser
from vcore_app.models import JobScheduler
from vcore_app.web.validation import json_body_raw, query_params


class Page(BaseModel):
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class PreviewQuery(BaseModel):
    count: int = Field(default=10, ge=1, le=100)


def scheduler_out(scheduler: JobScheduler) -> dict[str, Any]:
    return scheduler.model_dump(mode="json")


def _scheduler_id(request: Request) -> int:
    return int(request.path_params["scheduler_id"])


def _wake(request: Request) -> None:
    request.app.state.runtime.scheduler.wake()


async def list_schedulers(request: Request) -> JSONResponse:
    require_superuser(request)
    page = query_params(request, Page)
    with db.session(request.app.state.runtime.engine, readonly=True) as session:
        rows, total = schedules.list_schedulers(session=session, limit=page.limit, offset=page.offset)
        return JSONResponse({"items": [scheduler_out(row) for row in rows], "total": total})


async def create_scheduler(request: Request) -> JSONResponse:
    user = require_superuser(request)
    data = schedules.parse(await json_body_raw(request), default_timezone=request.app.state.settings.TIMEZONE)
    with db.session(request.app.state.runtime.engine) as session:
        scheduler = schedules.create_scheduler(session=session, data=data, created_by=user)
    _wake(request)
    return JSONResponse(scheduler_out(scheduler), status_code=201)


async def get_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    with db.session(request.app.state.runtime.engine, readonly=True) as session:
        return JSONResponse(scheduler_out(schedules.get_scheduler(session=session, scheduler_id=_scheduler_id(request))))


async def update_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    payload = await json_body_raw(request)
    with db.session(request.app.state.runtime.engine) as session:
        scheduler = schedules.get_scheduler(session=session, scheduler_id=_scheduler_id(request))
        current = schedules.SchedulerIn.model_validate(scheduler, from_attributes=True).model_dump()
        data = schedules.parse({**current, **payload}, default_timezone=request.app.state.settings.TIMEZONE)
        schedules.update_scheduler(session=session, scheduler=scheduler, data=data)
    _wake(request)
    return JSONResponse(scheduler_out(scheduler))


async def delete_scheduler(request: Request) -> Response:
    require_superuser(request)
    with db.session(request.app.state.runtime.engine) as session:
        session.delete(schedules.get_scheduler(session=session, scheduler_id=_scheduler_id(request)))
    _wake(request)
    return Response(status_code=204)


async def toggle_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    with db.session(request.app.state.runtime.engine) as session:
        scheduler = schedules.get_scheduler(session=session, scheduler_id=_scheduler_id(request))
        schedules.toggle_scheduler(session=session, scheduler=scheduler)
    _wake(request)
    return JSONResponse(scheduler_out(scheduler))


async def preview_scheduler(request: Request) -> JSONResponse:
    require_superuser(request)
    query = query_params(request, PreviewQuery)
    with db.session(request.app.state.runtime.engine, readonly=True) as session:
        scheduler = schedules.get_scheduler(session=session, scheduler_id=_scheduler_id(request))
    times = schedules.preview(scheduler, count=query.count, now=schedules.utcnow())
    return JSONResponse({"timezone": scheduler.timezone, "times": times})
