"""GET /healthz: public liveness for monitors, the container's HEALTHCHECK and the launcher's tests.

It answers 503 only while the database does not answer. A full data disk is `"status": "degraded"`
with the reason but still 200: the process is alive and serves reads, and a restart (what a
failing liveness check brings) frees no space; /readyz answers 503 instead (web/api/ops.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.system import health
from vcore_app.web.deps import runtime


async def healthz(request: Request) -> JSONResponse:
    body = health(runtime(request))
    return JSONResponse(body, status_code=200 if body["database"] == "ok" else 503)
