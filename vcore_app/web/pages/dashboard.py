"""`/`: the dashboard; and the queue start/stop buttons on it (superusers)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from vcore_app import stats
from vcore_app.cluster.nodes import node_states
from vcore_app.errors import AppError
from vcore_app.llm.usage import since_days, usage_per_user
from vcore_app.notify import service as notify_service
from vcore_app.system import snapshot
from vcore_app.web import flash
from vcore_app.web.api.ops import storage_report
from vcore_app.web.deps import actor, in_db, runtime, superuser
from vcore_app.web.pages.login import safe_next
from vcore_app.web.templating import render

_CHART_HEIGHT = 100
LLM_USAGE_DAYS = 30


async def dashboard(request: Request) -> HTMLResponse:
    active, user = runtime(request), actor(request)

    def gather(session: Session) -> dict[str, Any]:
        bars = stats.jobs_per_hour(session=session, now=active.clock(), actor=user)
        return {
            "bars": bars,
            "totals": stats.totals(bars),
            "peak": max([bar.total for bar in bars] + [1]),
            "failures": stats.recent_failures(session=session, actor=user),
            "first_run": not stats.has_jobs(session=session, actor=user),
            "upcoming": stats.upcoming_runs(session=session) if user.is_superuser else [],
            # LLM helpers: tokens per user over the last LLM_USAGE_DAYS days, for superusers
            "llm_usage": usage_per_user(session=session, actor=user, since=since_days(LLM_USAGE_DAYS))
            if user.is_superuser
            else [],
            # NOTIFY HOOK (issue 14): channels that keep failing, for superusers.
            "unhealthy_channels": notify_service.unhealthy_channels(session=session) if user.is_superuser else [],
            # issue 20: the nodes and their heartbeat, for superusers
            "nodes": node_states(session=session, dead_after=active.settings.WORKER_DEAD_AFTER_SECONDS)
            if user.is_superuser
            else [],
        }

    data = await in_db(request, gather, readonly=True)
    return render(
        request,
        "dashboard/index.html",
        {
            "nav": "Dashboard",
            "system": snapshot(active),
            "disk": active.disk.status,  # issue 19: the banner while the data disk is low or full
            "queues": active.queues.status(),
            "chart_height": _CHART_HEIGHT,
            "llm_usage_days": LLM_USAGE_DAYS,
            # issue 17: disk used, oldest job kept, last housekeeping run (superusers)
            "storage": await to_thread.run_sync(storage_report, request) if user.is_superuser else None,
            **data,
        },
    )


async def queue_consumer(request: Request) -> Response:
    """Start or stop a queue's consumer: stopped, its jobs wait (running ones finish). Back to the
    page it was asked from (`?next=`: the dashboard, or a waiting job's page), saying what it did."""
    superuser(request)
    queues = runtime(request).queues
    name, action = request.path_params["name"], request.path_params["action"]
    if name not in queues.queues or action not in ("start", "stop"):
        raise AppError("No such queue or action", 404)
    if action == "start":
        queues[name].start()
        message = f"Queue {name} started: its waiting jobs run now."
    else:
        queues[name].request_stop()
        message = f"Queue {name} stopped: running jobs finish, the others wait until it starts again."
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    flash.add(request, response, message)
    return response
