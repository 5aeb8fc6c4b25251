"""GET /healthz: public liveness and readiness for monitors and the launcher's tests."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.system import health
from vcore_app.web.deps import runtime


async def healthz(request: Request) -> JSONResponse:
    body = health(runtime(request))
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
