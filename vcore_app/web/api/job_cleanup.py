"""`DELETE /api/v1/jobs?status=...&older_than=...`: finished jobs in bulk, in short batches.

`older_than` is an age (`30d`, `12h`, `90m`) or an ISO 8601 time; at least one filter is needed,
so a bare DELETE never empties the table. A regular user deletes only its own jobs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import housekeeping
from vcore_app.errors import invalid
from vcore_app.models import JobStatus, User, utcnow
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, runtime, settings
from vcore_app.web.schemas import BulkDeleted
from vcore_app.web.validation import query_params

_AGE = re.compile(r"^(\d{1,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class BulkQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: JobStatus | None = None
    older_than: str | None = Field(None, max_length=40)


def cutoff(older_than: str | None, now: datetime) -> datetime | None:
    """`30d` -> now - 30 days; an ISO time as given (UTC if it names no zone)."""
    if not older_than:
        return None
    if match := _AGE.match(older_than):
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(older_than)
    except ValueError:
        raise invalid("older_than", "expected an age like 30d, 12h or 90m, or an ISO 8601 time", "query") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def delete_in_batches(request: Request, user: User, filters: Sequence[ColumnElement[bool]], what: str) -> int:
    """Short transactions of BATCH jobs each until none match; one audit row; live pages refresh."""
    logs_dir = settings(request).job_logs_dir
    total = 0
    while True:
        count = await in_db(
            request, lambda session: housekeeping.delete_job_batch(session=session, filters=filters, logs_dir=logs_dir)
        )
        total += count
        if count < housekeeping.BATCH:
            break
    await in_db(
        request, lambda session: housekeeping.record_bulk_delete(session=session, actor=user, count=total, what=what)
    )
    runtime(request).hub.refresh()
    return total


@operation(
    "Delete finished jobs in bulk (a regular user: its own)",
    tags=["jobs"],
    query=BulkQuery,
    responses={200: BulkDeleted},
    description="`status` and/or `older_than` (an age like 30d, 12h, 90m, or an ISO 8601 time); running "
    "and waiting jobs are never removed.",
)
async def delete_jobs(request: Request) -> JSONResponse:
    user = actor(request)
    query = query_params(request, BulkQuery)
    if query.status is None and not query.older_than:
        raise invalid(
            "older_than", "give status or older_than (or both): a bare DELETE would remove every job", "query"
        )
    before = cutoff(query.older_than, utcnow())
    filters = housekeeping.bulk_filters(actor=user, status=query.status, before=before)
    what = ", ".join(f"{key}={value}" for key, value in query.model_dump(exclude_none=True).items())
    deleted: dict[str, Any] = {"deleted": await delete_in_batches(request, user, filters, what)}
    return JSONResponse(deleted)
