"""`/`: the dashboard."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from vcore_app.system import snapshot
from vcore_app.web.templating import render


async def dashboard(request: Request) -> HTMLResponse:
    runtime = request.app.state.runtime
    return render(request, "dashboard/index.html", {
        "nav": "Dashboard",
        "system": snapshot(runtime),
        "queues": runtime.queues.status(),
    })
