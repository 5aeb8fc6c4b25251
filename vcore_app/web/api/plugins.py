"""`GET /api/v1/plugins` (what is loaded, what failed) and `POST /api/v1/plugins/reload` (superusers)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.plugins import service
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, runtime
from vcore_app.web.schemas import PluginList, PluginsReloaded


@operation("List the plugins, loaded or failed", tags=["plugins"], responses={200: PluginList})
async def list_plugins(request: Request) -> JSONResponse:
    return JSONResponse({"items": service.list_plugins(plugins=runtime(request).plugins, actor=actor(request))})


@operation("Reload the plugins folder (superusers)", tags=["plugins"], responses={200: PluginsReloaded}, errors=[403])
async def reload_plugins(request: Request) -> JSONResponse:
    user = actor(request)
    # imports plugin code and runs its hooks: off the event loop
    message = await run_in_threadpool(lambda: service.reload_plugins(runtime=runtime(request), actor=user))
    return JSONResponse(
        {"message": message, "items": service.list_plugins(plugins=runtime(request).plugins, actor=user)}
    )
