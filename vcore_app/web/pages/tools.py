"""`/tools` and `/tools/{name}`: Quick Tools pages (form, run, result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from vcore_app.tools import QuickTool, ToolFailed
from vcore_app.web.deps import runtime
from vcore_app.web.forms import field_errors, form_fields, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import form_fields as posted_fields
from vcore_app.web.validation import validation_detail


async def tools_index(request: Request) -> HTMLResponse:
    return render(request, "quick_tools/index.html", {"nav": "Quick Tools", "tools": runtime(request).tools.all()})


def _page(request: Request, tool: QuickTool, status: int = 200, **context: Any) -> HTMLResponse:
    base = {"nav": "Quick Tools", "tool": tool, "fields": form_fields(tool.Input), "values": {}, "errors": {},
            "error": None, "has_result": False, "result": None}
    return render(request, tool.template, {**base, **context}, status=status)


async def tool_page(request: Request) -> HTMLResponse:
    return _page(request, runtime(request).tools.get(request.path_params["name"]))


async def run_tool(request: Request) -> HTMLResponse:
    tool = runtime(request).tools.get(request.path_params["name"])
    posted = await posted_fields(request)
    values = form_values(tool.Input, posted)
    try:
        data = tool.Input.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(validation_detail(exc))
        return _page(request, tool, 422, values=posted, errors=errors, error="Please correct the marked fields.")
    try:
        result = await run_in_threadpool(tool.run, data)
    except ToolFailed as exc:
        return _page(request, tool, 422, values=posted, error=str(exc))
    return _page(request, tool, values=posted, has_result=True, result=result)
