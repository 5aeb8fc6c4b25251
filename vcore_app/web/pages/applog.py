"""`/logs` (superusers): the tail of DATA_DIR/logs/vcore.log, followed live.

The page polls `/logs/tail` with the offset (and file identity) it has seen; the answer is the
whole lines written since, or a fresh tail after a rotation (applog.read_app_log).
"""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app.applog import read_app_log
from vcore_app.models import ID_MAX
from vcore_app.web.deps import settings, superuser
from vcore_app.web.templating import render
from vcore_app.web.validation import query_params

TAIL_BYTES = 200_000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class TailQuery(BaseModel):
    offset: int | None = Field(None, ge=0, le=ID_MAX)
    file: str | None = Field(None, max_length=64)


async def logs_page(request: Request) -> Response:
    superuser(request)
    return render(
        request,
        "applog/index.html",
        {"nav": "Logs", "levels": LEVELS, "path": settings(request).logs_dir / "vcore.log"},
    )


async def logs_tail(request: Request) -> JSONResponse:
    superuser(request)
    query = query_params(request, TailQuery)
    chunk = await run_in_threadpool(
        read_app_log,
        settings(request).logs_dir / "vcore.log",  # a file, not the database
        offset=query.offset,
        file_id=query.file,
        tail_bytes=TAIL_BYTES,
    )
    return JSONResponse(asdict(chunk), headers={"Cache-Control": "no-store"})
