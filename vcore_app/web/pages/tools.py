"""`/tools` and `/tools/{name}`: Quick Tools pages (form, run, result)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vcore_app.errors import AppError, field_errors, from_validation
from vcore_app.tools import QuickTool, StreamingTool, ToolContext, ToolFailed
from vcore_app.web.api.llm import stream_text
from vcore_app.web.deps import actor, runtime, settings, tools
from vcore_app.web.errors import field_messages
from vcore_app.web.forms import fields_of_model, form_values
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form


async def tools_index(request: Request) -> HTMLResponse:
    return render(request, "tools/index.html", {"nav": "Quick Tools", "tools": tools(request).all()})


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
    return _page(request, tools(request).get(request.path_params["name"]))


async def run_tool(request: Request) -> HTMLResponse:
    tool = tools(request).get(request.path_params["name"])
    posted = await read_form(request)
    values = form_values(tool.Input, posted)
    try:
        data = tool.Input.model_validate(values)
    except ValidationError as exc:
        errors = field_messages(field_errors(exc))
        return _page(request, tool, 422, values=posted, errors=errors, error="Please correct the marked fields.")
    try:
        if isinstance(tool, StreamingTool):  # LLM helpers: the whole answer, for a browser without JavaScript
            result = await run_in_threadpool(tool.run_with, data, _context(request))
        else:
            result = await run_in_threadpool(tool.run, data)  # a tool's own work (no database), off the event loop
    except ToolFailed as exc:
        return _page(request, tool, 422, values=posted, error=str(exc))
    return _page(request, tool, values=posted, has_result=True, result=result)


# -- LLM helpers: a tool whose answer streams (quick_tool_stream.js reads it) -----------------------


def _context(request: Request) -> ToolContext:
    return ToolContext(settings=settings(request), actor=actor(request), engine=runtime(request).engine)


async def stream_tool(request: Request) -> Response:
    """`POST /tools/{name}/stream`: the tool's answer as text/plain while it is written; a 422 naming
    the fields when the input does not fit."""
    tool = tools(request).get(request.path_params["name"])
    if not isinstance(tool, StreamingTool):
        raise AppError("This Quick Tool does not stream", 404)
    try:
        data = tool.Input.model_validate(form_values(tool.Input, await read_form(request)))
    except ValidationError as exc:
        raise from_validation(exc) from None
    return await stream_text(tool.stream(data, _context(request)))
