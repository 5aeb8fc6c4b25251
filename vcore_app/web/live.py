"""The WebSocket endpoint `/api/v1/ws/job-queue`: who is asking, then the live hub (live.py) serves it."""

from __future__ import annotations

from starlette.websockets import WebSocket

from vcore_app.web.deps import actor, runtime


async def job_queue_socket(websocket: WebSocket) -> None:
    # The gate (auth/backend.py) has closed unauthenticated sockets before this runs.
    await runtime(websocket).hub.serve(websocket, actor(websocket))
