"""create_app(settings) -> the Starlette app. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from vcore_app.auth.backend import AppAuthBackend, RequireAuthentication
from vcore_app.auth.throttle import LoginThrottle
from vcore_app.metrics import HttpMetrics
from vcore_app.runtime import Runtime
from vcore_app.settings import Settings
from vcore_app.web.audit import AuditOrigin
from vcore_app.web.csrf import CsrfProtect
from vcore_app.web.errors import EXCEPTION_HANDLERS
from vcore_app.web.middleware import RequestLog, SecurityHeaders, StripTrailingSlash
from vcore_app.web.plugin_surface import PluginSurface
from vcore_app.web.public import public_paths
from vcore_app.web.routes import routes
from vcore_app.web.shown_once import ShownOnce
from vcore_app.web.templating import make_templates


class _App(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, outside Starlette's ServerErrorMiddleware: a 500 gets the security headers too.
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """Build the app. Without a runtime, the app starts and stops its own in its lifespan."""
    owns_runtime = runtime is None
    active = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if owns_runtime:
            active.start()
        active.hub.attach(asyncio.get_running_loop())
        try:
            yield
        finally:
            active.hub.attach(None)
            if owns_runtime:
                active.stop()

    templates = make_templates(settings)
    surface = PluginSurface(active.plugins, templates.env, public_paths(settings))  # plugins
    app = _App(
        debug=settings.DEBUG,
        routes=routes(plugin_routes=surface.routes),
        middleware=[
            Middleware(StripTrailingSlash),
            Middleware(
                RequestLog, metrics=HttpMetrics(active.metrics)
            ),  # after the slash is stripped (route templates)
            *_cors(settings),  # inside SecurityHeaders (_App): CORS answers carry them too
            Middleware(AuthenticationMiddleware, backend=AppAuthBackend()),
            Middleware(AuditOrigin),  # issue 17; needs scope["user"]
            Middleware(RequireAuthentication, is_public=public_paths(settings)),
            Middleware(CsrfProtect),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = active
    app.state.templates = templates
    app.state.plugin_surface = surface
    app.state.login_throttle = LoginThrottle()  # in memory: one process holds all the state
    app.state.shown_once = ShownOnce()  # the same: a new API key between its POST and its page
    return app


def _cors(settings: Settings) -> list[Middleware]:
    """BACKEND_CORS_ORIGINS, outside the auth gate so preflights need no credentials. Listed origins
    may send credentials; `*` (any origin) never may; an empty list adds no CORS headers at all."""
    origins = settings.BACKEND_CORS_ORIGINS
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=origins != ["*"],
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-CSRF-Token", "Idempotency-Key"],
            expose_headers=["X-Log-Start", "X-Log-Size", "Retry-After"],
            max_age=600,
        )
    ]
