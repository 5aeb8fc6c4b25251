"""The one list of routes: the whole HTTP surface in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from vcore_app.web.api import health

# Paths reachable without credentials. The auth sweep test checks every other route refuses.
PUBLIC_PATHS = {"/healthz"}


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
    ]
