"""`GET /api/v1/workers`: the nodes running now (this process alone, or the web and worker nodes of
issue 20), with their queues, running jobs and last heartbeat."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.cluster.nodes import node_states
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import in_db, settings, superuser
from vcore_app.web.schemas import WorkerList, WorkerNode


@operation(
    "The nodes: web servers and workers, with their heartbeat",
    tags=["queues"],
    responses={200: WorkerList},
    errors=[403],
)
async def list_workers(request: Request) -> JSONResponse:
    superuser(request)
    dead_after = settings(request).WORKER_DEAD_AFTER_SECONDS
    nodes = await in_db(request, lambda session: node_states(session=session, dead_after=dead_after), readonly=True)
    return JSONResponse(
        WorkerList(items=[WorkerNode.model_validate(asdict(node)) for node in nodes]).model_dump(mode="json")
    )
