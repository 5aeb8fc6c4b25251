"""Who acts in an HTTP request, for the audit log (audit.py): the logged-in user and the client's
address, set once per request so the domain functions' `audit.record` calls need neither.

uvicorn runs with proxy_headers, so behind a reverse proxy on this machine the address is the
proxy's X-Forwarded-For client, not 127.0.0.1. A state-changing request refused with 403 is recorded
here too (outcome "denied"): the domain never sees it.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vcore_app import audit
from vcore_app.auth.backend import Principal

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(scope: Scope) -> audit.Origin:
    principal = scope.get("user")
    actor = principal.user.username if isinstance(principal, Principal) else "anonymous"
    client = scope.get("client")
    return audit.Origin(actor=actor, address=client[0] if client else None)


class AuditOrigin:
    """Pure ASGI middleware, placed after authentication (it reads `scope["user"]`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        origin = origin_of(scope)
        status = 0

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with audit.acting(origin):
            await self.app(scope, receive, send_and_watch)
        if status == 403 and scope.get("method") not in _SAFE_METHODS:
            runtime = scope["app"].state.runtime
            await to_thread.run_sync(
                lambda: audit.record_now(
                    runtime.engine,
                    action="denied",
                    target=f"{scope['method']} {scope['path']}",
                    actor=origin.actor,
                    address=origin.address,
                    outcome=audit.DENIED,
                )
            )
