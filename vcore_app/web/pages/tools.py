"""`/tools` and `/tools/{name}`: Quick Tools pages (form, run, result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from vcore_app.errors import AppError, field_errors
from vcore_app.tools import QuickTool, service
from vcore_app.web.deps import actor, tools
from vcore_app.web.errors import field_messages
from vcore_app.web.forms import fields_of_model, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form


async def tools_index(request: Request) -> HTMLResponse:
    visible = service.visible_tools(tools=tools(request), actor=actor(request))
    return render(request, "tools/index.html", {"nav": "Quick Tools", "tools": visible})


def _page(request: Request, tool: QuickTool, status: int = 200, **context: Any) -> HTMLResponse:
    base = {
        "nav": "Quick Tools",
        "tool": tool,
        "fields": fields_of_model(tool.Input),
        "values": {},
        "errors": {},
        "error": None,
        "has_result": False,
        "result": None,
    }
    return render(request, tool.template, {**base, **context}, status=status)


async def tool_page(request: Request) -> HTMLResponse:
    return _page(
        request, service.get_tool(tools=tools(request), name=request.path_params["name"], actor=actor(request))
    )


async def run_tool(request: Request) -> HTMLResponse:
    user = actor(request)
    tool = service.get_tool(tools=tools(request), name=request.path_params["name"], actor=user)
    posted = await read_form(request)
    values = form_values(tool.Input, posted)
    try:
        data = tool.Input.model_validate(values)
    except ValidationError as exc:
        errors = field_messages(field_errors(exc))
        return _page(request, tool, 422, values=posted, errors=errors, error="Please correct the marked fields.")
    try:
        # a tool's own work (no database), off the event loop
        result = await run_in_threadpool(lambda: service.run_tool(tool=tool, data=data, actor=user))
    except AppError as exc:
        if exc.status != 422:
            raise
        message = exc.fields[0].msg if exc.fields else exc.message
        return _page(request, tool, 422, values=posted, errors=field_messages(exc.fields), error=message)
    return _page(request, tool, values=posted, has_result=True, result=result)
