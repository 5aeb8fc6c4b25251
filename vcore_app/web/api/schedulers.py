"""`/api/v1/job-schedulers`: superuser-only CRUD, toggle, run-now, preview and the runs of a scheduler.

schedulers/service.py checks the role and wakes the scheduler thread after each change.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app.jobs import service as jobs
from vcore_app.jobs.views import JobDetail, JobSummary
from vcore_app.models import ID_MAX, Job, JobScheduler
from vcore_app.schedulers import service
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.schemas import JobPage, Preview
from vcore_app.web.validation import json_body_raw, query_params


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=ID_MAX)


class PreviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=10, ge=1, le=100)


SchedulerOut = create_model(
    "SchedulerOut",
    __doc__="A scheduler: its trigger, the job it creates, its plan and how its last run went.",
    **{name: (field.annotation, None) for name, field in JobScheduler.model_fields.items()},  # type: ignore[call-overload]
    last_run_status=(str | None, None),
)


class SchedulerPage(BaseModel):
    """A page of schedulers and how many there are in all."""

    items: list[SchedulerOut]
    total: int


def scheduler_out(scheduler: JobScheduler, last_job: Job | None = None) -> dict[str, Any]:
    body = scheduler.model_dump(mode="json")
    body["last_run_status"] = last_job.status if last_job is not None else None
    return body


def _shown(session: Session, scheduler: JobScheduler) -> dict[str, Any]:
    return scheduler_out(scheduler, service.last_job(session=session, scheduler=scheduler))


def _scheduler_id(request: Request) -> int:
    scheduler_id: int = request.path_params["scheduler_id"]
    return scheduler_id


@operation("List schedulers", tags=["schedulers"], query=Page, responses={200: SchedulerPage}, errors=[403])
async def list_schedulers(request: Request) -> JSONResponse:
    user, page = actor(request), query_params(request, Page)

    def work(session: Session) -> dict[str, Any]:
        rows, total = service.list_schedulers(session=session, actor=user, limit=page.limit, offset=page.offset)
        last = service.last_jobs(session=session, schedulers=rows)
        return {"items": [scheduler_out(row, last.get(row.last_job_id or 0)) for row in rows], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))


@operation(
    "Create a scheduler", tags=["schedulers"], body=service.SchedulerIn, responses={201: SchedulerOut}, errors=[403]
)
async def create_scheduler(request: Request) -> JSONResponse:
    user = superuser(request)  # before reading the body: a regular user learns nothing from a 422
    payload, wiring = await json_body_raw(request), runtime(request).schedulers
    return JSONResponse(
        await in_db(
            request,
            lambda session: scheduler_out(
                service.create_scheduler(session=session, wiring=wiring, payload=payload, actor=user)
            ),
        ),
        status_code=201,
    )


@operation("A scheduler", tags=["schedulers"], responses={200: SchedulerOut}, errors=[403])
async def get_scheduler(request: Request) -> JSONResponse:
    user, scheduler_id = actor(request), _scheduler_id(request)
    return JSONResponse(
        await in_db(
            request,
            lambda session: _shown(
                session, service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user)
            ),
            readonly=True,
        )
    )


@operation(
    "Change a scheduler", tags=["schedulers"], body=service.SchedulerIn, responses={200: SchedulerOut}, errors=[403]
)
async def update_scheduler(request: Request) -> JSONResponse:
    user = superuser(request)
    payload, scheduler_id, wiring = await json_body_raw(request), _scheduler_id(request), runtime(request).schedulers
    return JSONResponse(
        await in_db(
            request,
            lambda session: _shown(
                session,
                service.update_scheduler(
                    session=session, wiring=wiring, scheduler_id=scheduler_id, payload=payload, actor=user
                ),
            ),
        )
    )


@operation("Delete a scheduler (its jobs stay)", tags=["schedulers"], responses={204: "empty"}, errors=[403])
async def delete_scheduler(request: Request) -> Response:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    await in_db(
        request,
        lambda session: service.delete_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user),
    )
    return Response(status_code=204)


@operation("Enable or disable a scheduler", tags=["schedulers"], responses={200: SchedulerOut}, errors=[403])
async def toggle_scheduler(request: Request) -> JSONResponse:
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    return JSONResponse(
        await in_db(
            request,
            lambda session: _shown(
                session, service.toggle_scheduler(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user)
            ),
        )
    )


@operation("Run a scheduler's job now, outside its plan", tags=["schedulers"], responses={201: JobDetail}, errors=[403])
async def run_now(request: Request) -> JSONResponse:
    """A run outside the plan: always creates a job, leaves the planned next run as it is."""
    user, scheduler_id, wiring = actor(request), _scheduler_id(request), runtime(request).schedulers
    return JSONResponse(
        await in_db(
            request,
            lambda session: JobDetail.of(
                service.run_now(session=session, wiring=wiring, scheduler_id=scheduler_id, actor=user)
            ),
        ),
        status_code=201,
    )


@operation(
    "A scheduler's next fire times", tags=["schedulers"], query=PreviewQuery, responses={200: Preview}, errors=[403]
)
async def preview_scheduler(request: Request) -> JSONResponse:
    user, scheduler_id = actor(request), _scheduler_id(request)
    query = query_params(request, PreviewQuery)
    scheduler = await in_db(
        request,
        lambda session: service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user),
        readonly=True,
    )
    return JSONResponse(
        {
            "timezone": scheduler.timezone,
            "times": service.preview(scheduler, count=query.count, now=runtime(request).clock()),
        }
    )


class DraftPreview(service.TriggerIn):
    model_config = ConfigDict(extra="ignore")  # the whole form may come along
    count: int = Field(default=5, ge=1, le=100)


@operation(
    "The next fire times of an unsaved trigger",
    tags=["schedulers"],
    body=DraftPreview,
    responses={200: Preview},
    errors=[403],
)
async def preview_draft(request: Request) -> JSONResponse:
    """The fire times of a scheduler not saved yet (the form's live preview); 422 names a bad field."""
    superuser(request)
    draft = service.parse_trigger(
        DraftPreview, await json_body_raw(request), default_timezone=settings(request).TIMEZONE
    )
    scheduler = JobScheduler(**draft.model_dump(exclude={"count"}), name="draft")
    return JSONResponse(
        {
            "timezone": scheduler.timezone,
            "times": service.preview(scheduler, count=draft.count, now=runtime(request).clock()),
        }
    )


@operation("The jobs a scheduler created", tags=["schedulers"], query=Page, responses={200: JobPage}, errors=[403])
async def scheduler_jobs(request: Request) -> JSONResponse:
    user, scheduler_id, page = actor(request), _scheduler_id(request), query_params(request, Page)

    def work(session: Session) -> dict[str, Any]:
        scheduler = service.get_scheduler(session=session, scheduler_id=scheduler_id, actor=user)
        items, total = jobs.list_jobs(
            session=session, actor=user, scheduler_id=scheduler.id, limit=page.limit, offset=page.offset
        )
        return {"items": [JobSummary.of(job) for job in items], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))
