"""Operations endpoints: `/metrics` (Prometheus), `/readyz`, `/api/v1/housekeeping`, `/api/v1/audit`.

`/metrics` and `/readyz` pass the authentication gate (web/routes.py PUBLIC_PATHS); `/metrics`
applies its own rule: open to loopback clients, otherwise `Authorization: Bearer METRICS_TOKEN`
(compared in constant time; with no token set, loopback only).
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app import audit
from vcore_app.auth.backend import bearer_token
from vcore_app.errors import AppError
from vcore_app.metrics import CONTENT_TYPE, sqlite_files
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import in_db, runtime, settings, superuser
from vcore_app.web.schemas import AuditPage, Started, StorageReport
from vcore_app.web.validation import query_params


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    if not _loopback(request):
        token = settings(request).METRICS_TOKEN.get_secret_value()
        given = bearer_token(request) or ""
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            raise AppError(
                "Metrics need METRICS_TOKEN as a bearer token from this address",
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    body = await to_thread.run_sync(runtime(request).metrics.render)  # queue counts read SQLite
    return Response(body, media_type=CONTENT_TYPE)


async def readyz(request: Request) -> JSONResponse:
    reasons = await to_thread.run_sync(runtime(request).ready)
    if reasons:
        return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready"})


def storage_report(request: Request) -> dict[str, Any]:
    """Disk use and the last housekeeping run: the dashboard's card and GET /api/v1/housekeeping."""
    active = runtime(request)
    storage = active.housekeeping.storage(sqlite_files(active))
    last = active.housekeeping.last
    return {
        "logs_bytes": storage.logs_bytes,
        "log_files": storage.log_files,
        "databases_bytes": storage.databases,
        "jobs": storage.jobs,
        "oldest_job_at": storage.oldest_job_at.isoformat() if storage.oldest_job_at else None,
        "last_run": None
        if last is None
        else {
            "started_at": last.started_at.isoformat(),
            "finished_at": last.finished_at.isoformat(),
            "removed_jobs": last.jobs,
            "removed_logs": last.logs,
            "removed_log_bytes": last.log_bytes,
            "removed_audit_rows": last.audit,
            "vacuumed": last.vacuumed,
            "summary": last.summary(),
        },
    }


@operation(
    "Disk use, oldest job kept and the last housekeeping run (superusers)",
    tags=["operations"],
    responses={200: StorageReport},
    errors=[403],
)
async def housekeeping_status(request: Request) -> JSONResponse:
    superuser(request)
    return JSONResponse(await to_thread.run_sync(storage_report, request))


@operation("Run housekeeping now (superusers)", tags=["operations"], responses={202: Started}, errors=[403])
async def housekeeping_run(request: Request) -> JSONResponse:
    """Run housekeeping now, in its own thread; 202 (GET shows the outcome)."""
    superuser(request)
    runtime(request).housekeeping.wake()
    return JSONResponse({"detail": "housekeeping started"}, status_code=202)


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str | None = Field(None, max_length=100)
    action: str | None = Field(None, max_length=64)
    outcome: str | None = Field(None, pattern="^(ok|failed|denied)$")
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)

    def where(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            actor=self.actor or None,
            action=self.action or None,
            outcome=self.outcome or None,
            since=self.since,
            until=self.until,
        )


def event_out(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "address": event.address,
        "outcome": event.outcome,
    }


@operation(
    "The audit log, newest first, with filters (superusers)",
    tags=["operations"],
    query=AuditQuery,
    responses={200: AuditPage},
    errors=[403],
)
async def list_audit(request: Request) -> JSONResponse:
    superuser(request)
    query = query_params(request, AuditQuery)
    rows, total = await in_db(
        request,
        lambda session: audit.list_events(session=session, where=query.where(), limit=query.limit, offset=query.offset),
        readonly=True,
    )
    return JSONResponse({"items": [event_out(row) for row in rows], "total": total})
