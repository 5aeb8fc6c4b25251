"""The WebSocket endpoint `/api/v1/ws/job-queue`: who is asking, then the live hub (live.py) serves it."""

from __future__ import annotations

from functools import partial

from starlette.websockets import WebSocket

from vcore_app.auth.backend import credential, credential_expiry, resolve
from vcore_app.live import Credential
from vcore_app.web.deps import actor, runtime


async def job_queue_socket(websocket: WebSocket) -> None:
    # The gate (auth/backend.py) has closed unauthenticated sockets before this runs, so it carries one.
    found = credential(websocket)
    assert found is not None
    via, secret = found
    checks = Credential(
        via=via,
        expiry=partial(credential_expiry, websocket, via, secret),
        user=partial(resolve, websocket, via, secret),
    )
    await runtime(websocket).hub.serve(websocket, actor(websocket), checks)
