"""The one list of routes: the whole HTTP surface in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from vcore_app.web.api import health, login, schedulers
from vcore_app.web.pages import dashboard
from vcore_app.web.static import static_routes

API = "/api/v1"

# Reachable without credentials; every other path is refused by the gate in auth/backend.py.
# The auth sweep test enumerates the routes and checks each non-public one.
PUBLIC_PATHS = frozenset({
    "/healthz",
    f"{API}/login/access-token",
})
PUBLIC_PREFIXES: tuple[str, ...] = ("/static/",)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route(f"{API}/login/access-token", login.access_token, methods=["POST"]),
        Route(f"{API}/login/test-token", login.test_token, methods=["POST"]),
        Route(f"{API}/job-schedulers", schedulers.list_schedulers, methods=["GET"]),
        Route(f"{API}/job-schedulers", schedulers.create_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.get_scheduler, methods=["GET"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.update_scheduler, methods=["PUT"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.delete_scheduler, methods=["DELETE"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/toggle", schedulers.toggle_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/preview", schedulers.preview_scheduler, methods=["GET"]),
        Route("/", dashboard.dashboard, methods=["GET"]),
        *static_routes(),
    ]
