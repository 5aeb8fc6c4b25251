"""`GET /api/v1/tools` (name, title, description, input schema) and `POST /api/v1/tools/{name}`
(JSON input in, `{"tool": name, "result": ...}` out; 422 naming the field on bad input)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.tools import service
from vcore_app.web.deps import actor, runtime
from vcore_app.web.validation import json_body_raw, validate


async def list_tools(request: Request) -> JSONResponse:
    return JSONResponse({"items": service.describe_tools(tools=runtime(request).tools, actor=actor(request))})


async def run_tool(request: Request) -> JSONResponse:
    user = actor(request)
    tool = service.get_tool(tools=runtime(request).tools, name=request.path_params["name"], actor=user)
    data = validate(tool.Input, await json_body_raw(request))
    result = await run_in_threadpool(lambda: service.run_tool(tool=tool, data=data, actor=user))
    return JSONResponse({"tool": tool.name, "result": result})
