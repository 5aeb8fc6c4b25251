"""`POST /jobs/{id}/explain`: the "Explain this failure" button of a failed job's page.

A plain form answered with a redirect to the job page, which shows the kept answer; the JSON twin is
`POST /api/v1/jobs/{id}/explain` (web/api/llm.py), and both go through `explain_failure`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vcore_app.errors import AppError
from vcore_app.web import flash
from vcore_app.web.api.llm import explain_failure
from vcore_app.web.deps import actor


async def explain_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    try:
        await explain_failure(request, actor(request))
    except AppError as exc:
        if exc.status == 404:
            raise
        return flash.redirect(request, f"/jobs/{job_id}", f"No explanation: {exc.message}", "danger")
    return flash.redirect(request, f"/jobs/{job_id}", "The explanation is on the page.")
