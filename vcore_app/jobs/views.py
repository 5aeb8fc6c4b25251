"""How a job looks from outside: in lists and live updates (JobSummary), and alone (JobDetail).

The JSON API, the job pages and the live hub's WebSocket messages all show jobs in these shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from vcore_app.models import Job


class JobSummary(BaseModel):
    """A job in lists and live updates: no command, input, body or result (those can be large)."""

    id: int
    name: str
    type: str
    status: str
    priority: str
    queue_name: str
    attempt: int
    max_retries: int
    error: str | None
    created_by: int | None
    scheduler_id: int | None
    created_at: datetime
    queued_at: datetime | None
    run_after: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    pid: int | None
    stopping: str | None = Field(
        description="Why a running job is being ended (killed, timed out): it is `cancelled` or `failed` once "
        "none of its processes is left; null otherwise."
    )

    @classmethod
    def of(cls, job: Job) -> dict[str, Any]:
        return cls.model_validate(job, from_attributes=True).model_dump(mode="json")


class JobDetail(JobSummary):
    """One job with everything it was made from and what it produced."""

    retry_delay_seconds: float
    timeout_seconds: float | None
    command: str | None
    cwd: str | None
    env: dict[str, str] | None
    script: str | None
    input: dict[str, Any] | None
    url: str | None
    headers: dict[str, str] | None
    body: Any
    request_timeout_seconds: float | None
    meta: dict[str, Any] | None
    notify: dict[str, Any] | None
    result: Any
    boot_id: str | None
    idempotency_key: str | None
