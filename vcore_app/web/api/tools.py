"""`GET /api/v1/tools` (name, title, description, input schema) and `POST /api/v1/tools/{name}`
(JSON input in, `{"tool": name, "result": ...}` out; 422 naming the field on bad input)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.tools import service
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, tool_context, tools
from vcore_app.web.schemas import ToolInput, ToolList, ToolResult
from vcore_app.web.validation import json_body_raw, validate


@operation("List the Quick Tools, with each one's input schema", tags=["tools"], responses={200: ToolList})
async def list_tools(request: Request) -> JSONResponse:
    return JSONResponse({"items": service.describe_tools(tools=tools(request), actor=actor(request))})


@operation(
    "Run a Quick Tool",
    tags=["tools"],
    body=ToolInput,
    responses={200: ToolResult},
    errors=[403],
    description="The body is the tool's input (its `input_schema` in `GET /api/v1/tools`).",
)
async def run_tool(request: Request) -> JSONResponse:
    user = actor(request)
    tool = service.get_tool(tools=tools(request), name=request.path_params["name"], actor=user)
    data = validate(tool.Input, await json_body_raw(request))
    ctx = tool_context(request)
    result = await run_in_threadpool(lambda: service.run_tool(tool=tool, data=data, ctx=ctx))
    return JSONResponse({"tool": tool.name, "result": result})
