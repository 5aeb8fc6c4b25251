"""Pure ASGI middleware: one log line per request, and trailing-slash-insensitive paths."""

from __future__ import annotations

import time

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StripTrailingSlash:
    """`/api/v1/jobs/` and `/api/v1/jobs` are the same resource (the seed's clients use both)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


class RequestLog:
    """`GET /api/v1/jobs 200 3.1 ms`: method, path (no query: it may hold a token), status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            logger.bind(source="http").info("{} {} {} {:.1f} ms", scope["method"], scope["path"], status, elapsed)
