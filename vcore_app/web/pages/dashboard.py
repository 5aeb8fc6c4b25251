"""`/`: the dashboard; and the queue start/stop buttons on it (superusers)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from vcore_app import db, stats
from vcore_app.auth.guards import current_user, require_superuser
from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.notify import service as notify_service
from vcore_app.system import snapshot
from vcore_app.web.templating import render

_CHART_HEIGHT = 100


async def dashboard(request: Request) -> HTMLResponse:
    runtime = request.app.state.runtime
    user = current_user(request)

    def gather() -> dict[str, Any]:
        with db.session(runtime.engine, readonly=True) as session:
            bars = stats.jobs_per_hour(session=session, now=runtime.clock())
            return {
                "bars": bars,
                "totals": stats.totals(bars),
                "peak": max([bar.total for bar in bars] + [1]),
                "failures": stats.recent_failures(session=session, owner=service.owner_filter(user)),
                "upcoming": stats.upcoming_runs(session=session) if user.is_superuser else [],
                # NOTIFY HOOK (issue 14): channels that keep failing, for superusers.
                "unhealthy_channels": notify_service.unhealthy_channels(session=session) if user.is_superuser else [],
            }

    return render(request, "dashboard/index.html", {
        "nav": "Dashboard",
        "system": snapshot(runtime),
        "queues": runtime.queues.status(),
        "chart_height": _CHART_HEIGHT,
        **await run_in_threadpool(gather),
    })


async def queue_consumer(request: Request) -> Response:
    """Start or stop a queue's consumer: stopped, its jobs wait (running ones finish)."""
    require_superuser(request)
    queues = request.app.state.runtime.queues
    name, action = request.path_params["name"], request.path_params["action"]
    if name not in queues.queues or action not in ("start", "stop"):
        raise AppError("No such queue or action", 404)
    if action == "start":
        queues[name].start()
    else:
        queues[name].request_stop()
    return RedirectResponse("/", status_code=303)
