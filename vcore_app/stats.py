"""What the dashboard counts: jobs of the last 24 hours per hour and status, recent failures, next runs.

Every count takes the acting user: a regular user's dashboard counts only its own jobs, as its jobs
page lists them (`jobs.service.owner_filter`), so it neither disagrees with that page nor shows how
busy other users are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from vcore_app.jobs.service import owner_filter
from vcore_app.models import Job, JobScheduler, JobStatus, User

HOURS = 24


@dataclass
class HourBar:
    """One hour of the chart: its label and the count of each status, stacked bottom-up."""

    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _utc_hour(FunctionElement[str]):
    """'YYYY-MM-DD HH' of a stored UTC time, in the SQL of either engine (issue 20)."""

    type = String()
    inherit_cache = True


@compiles(_utc_hour, "sqlite")
def _utc_hour_sqlite(element: _utc_hour, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"  # stored as 'YYYY-MM-DD HH:MM:SS...'


@compiles(_utc_hour, "postgresql")
def _utc_hour_postgresql(element: _utc_hour, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


def jobs_per_hour(*, session: Session, now: datetime, actor: User) -> list[HourBar]:
    """Jobs `actor` may see created in each of the last 24 hours, by status: one grouped query on the
    created_at index."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    hour = _utc_hour(Job.created_at)
    query = select(hour, Job.status, func.count()).where(Job.created_at >= start)
    owner = owner_filter(actor)
    if owner is not None:
        query = query.where(col(Job.created_by) == owner)
    rows = session.exec(query.group_by(hour, Job.status)).all()
    found: dict[str, dict[str, int]] = {}
    for key, status, count in rows:
        found.setdefault(key, {})[status] = count
    bars = []
    for index in range(HOURS):
        moment = start + timedelta(hours=index)
        bars.append(HourBar(label=moment.strftime("%H:00"), counts=found.get(moment.strftime("%Y-%m-%d %H"), {})))
    return bars


def totals(bars: list[HourBar]) -> dict[str, int]:
    summed = {status.value: 0 for status in JobStatus}
    for bar in bars:
        for status, count in bar.counts.items():
            summed[status] = summed.get(status, 0) + count
    return summed


def recent_failures(*, session: Session, actor: User, limit: int = 5) -> list[Job]:
    query = select(Job).where(col(Job.status) == JobStatus.FAILED)
    owner = owner_filter(actor)
    if owner is not None:
        query = query.where(col(Job.created_by) == owner)
    return list(session.exec(query.order_by(col(Job.id).desc()).limit(limit)).all())


def has_jobs(*, session: Session, actor: User) -> bool:
    """Whether `actor` sees any job at all, of any age: without one, the dashboard shows how to start."""
    query = select(Job.id)
    owner = owner_filter(actor)
    if owner is not None:
        query = query.where(col(Job.created_by) == owner)
    return session.exec(query.limit(1)).first() is not None


def upcoming_runs(*, session: Session, limit: int = 5) -> list[JobScheduler]:
    return list(
        session.exec(
            select(JobScheduler)
            .where(col(JobScheduler.enabled), col(JobScheduler.next_run_at).is_not(None))
            .order_by(col(JobScheduler.next_run_at))
            .limit(limit)
        ).all()
    )
