"""The one list of routes: the whole HTTP surface in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from vcore_app import live
from vcore_app.web.api import health, jobs, login

API = "/api/v1"

# Reachable without credentials; every other path is refused by the gate in auth/backend.py.
# The auth sweep test enumerates the routes and checks each non-public one.
PUBLIC_PATHS = frozenset({
    "/healthz",
    f"{API}/login/access-token",
})
PUBLIC_PREFIXES: tuple[str, ...] = ()


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route(f"{API}/login/access-token", login.access_token, methods=["POST"]),
        Route(f"{API}/login/test-token", login.test_token, methods=["POST"]),
        Route(f"{API}/jobs", jobs.list_jobs, methods=["GET"]),
        Route(f"{API}/jobs", jobs.create_job, methods=["POST"]),
        Route(f"{API}/jobs/start-consumer", jobs.start_consumer, methods=["POST"]),
        Route(f"{API}/jobs/stop-consumer", jobs.stop_consumer, methods=["POST"]),
        Route(f"{API}/jobs/push-jobs-to-websocket", jobs.push_jobs, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.get_job, methods=["GET"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.update_job, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.delete_job, methods=["DELETE"]),
        Route(f"{API}/jobs/{{job_id:int}}/status", jobs.set_status, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:int}}/kill", jobs.kill_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}/rerun", jobs.rerun_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}/log", jobs.job_log, methods=["GET"]),
        WebSocketRoute(f"{API}/ws/job-queue", live.job_queue_socket),
    ]
