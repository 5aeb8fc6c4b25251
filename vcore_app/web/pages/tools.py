"""`/tools` and `/tools/{name}`: Quick Tools pages (form, run, result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from vcore_app.errors import AppError
from vcore_app.tools import QuickTool, service
from vcore_app.web.deps import actor, runtime
from vcore_app.web.forms import field_errors, form_fields, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import form_fields as posted_fields
from vcore_app.web.validation import validation_detail


async def tools_index(request: Request) -> HTMLResponse:
    tools = service.visible_tools(tools=runtime(request).tools, actor=actor(request))
    return render(request, "quick_tools/index.html", {"nav": "Quick Tools", "tools": tools})


def _page(request: Request, tool: QuickTool, status: int = 200, **context: Any) -> HTMLResponse:
    base = {"nav": "Quick Tools", "tool": tool, "fields": form_fields(tool.Input), "values": {}, "errors": {},
            "error": None, "has_result": False, "result": None}
    return render(request, tool.template, {**base, **context}, status=status)


async def tool_page(request: Request) -> HTMLResponse:
    return _page(request, service.get_tool(tools=runtime(request).tools, name=request.path_params["name"],
                                           actor=actor(request)))


async def run_tool(request: Request) -> HTMLResponse:
    user = actor(request)
    tool = service.get_tool(tools=runtime(request).tools, name=request.path_params["name"], actor=user)
    posted = await posted_fields(request)
    values = form_values(tool.Input, posted)
    try:
        data = tool.Input.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(validation_detail(exc))
        return _page(request, tool, 422, values=posted, errors=errors, error="Please correct the marked fields.")
    try:
        result = await run_in_threadpool(lambda: service.run_tool(tool=tool, data=data, actor=user))
    except AppError as exc:
        if exc.status != 422:
            raise
        errors = field_errors(exc.message)
        message = exc.message[0]["msg"] if isinstance(exc.message, list) else str(exc.message)
        return _page(request, tool, 422, values=posted, errors=errors, error=message)
    return _page(request, tool, values=posted, has_result=True, result=result)
