"""`/tools` and `/tools/{name}`: Quick Tools pages (form, run, result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vcore_app.errors import AppError, field_errors, from_validation
from vcore_app.tools import QuickTool, StreamingTool, service
from vcore_app.web.api.llm import stream_text
from vcore_app.web.deps import actor, tool_context, tools
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
    tool = service.get_tool(tools=tools(request), name=request.path_params["name"], actor=actor(request))
    posted = await read_form(request)
    values = form_values(tool.Input, posted)
    try:
        data = tool.Input.model_validate(values)
    except ValidationError as exc:
        errors = field_messages(field_errors(exc))
        return _page(request, tool, 422, values=posted, errors=errors, error="Please correct the marked fields.")
    try:
        # a tool's own work (no database), off the event loop
        ctx = tool_context(request)
        result = await run_in_threadpool(lambda: service.run_tool(tool=tool, data=data, ctx=ctx))
    except AppError as exc:
        if exc.status != 422:
            raise
        message = exc.fields[0].msg if exc.fields else exc.message
        return _page(request, tool, 422, values=posted, errors=field_messages(exc.fields), error=message)
    return _page(request, tool, values=posted, has_result=True, result=result)


# -- LLM helpers: a tool whose answer streams (quick_tool_stream.js reads it) -----------------------


async def stream_tool(request: Request) -> Response:
    """`POST /tools/{name}/stream`: the tool's answer as text/plain while it is written; a 422 naming
    the fields when the input does not fit."""
    tool = service.get_tool(tools=tools(request), name=request.path_params["name"], actor=actor(request))
    if not isinstance(tool, StreamingTool):
        raise AppError("This Quick Tool does not stream", 404)
    try:
        data = tool.Input.model_validate(form_values(tool.Input, await read_form(request)))
    except ValidationError as exc:
        raise from_validation(exc) from None
    return await stream_text(tool.stream(data, tool_context(request)))
