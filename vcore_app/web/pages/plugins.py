"""`/plugins`: every plugin, where it came from, its hooks, its error (traceback for superusers);
a Reload button for superusers."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from vcore_app.plugins import service
from vcore_app.web import flash
from vcore_app.web.deps import actor, runtime, settings
from vcore_app.web.templating import render


async def plugins_page(request: Request) -> Response:
    items = service.list_plugins(plugins=runtime(request).plugins, actor=actor(request))
    return render(
        request,
        "plugins/index.html",
        {"nav": "Plugins", "plugins": items, "plugins_dir": settings(request).plugins_dir},
    )


async def reload_plugins(request: Request) -> Response:
    user = actor(request)
    message = await run_in_threadpool(lambda: service.reload_plugins(runtime=runtime(request), actor=user))
    return flash.redirect(request, "/plugins", message, "success")
