"""Pure ASGI middleware: one log line (and one /metrics measurement) per request, trailing-slash-
insensitive paths, and the security headers."""

from __future__ import annotations

import time

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vcore_app.metrics import HttpMetrics


class StripTrailingSlash:
    """`/api/v1/jobs/` and `/api/v1/jobs` are the same resource (the seed's clients use both)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


# The log viewer polls this every 2 s, and every page loads a dozen static files: logging them when
# they succeed would drown the log it shows (issue 18). Their errors are logged.
_QUIET_PATHS = frozenset({"/logs/tail"})
_QUIET_PREFIX = "/static/"


class RequestLog:
    """`GET /api/v1/jobs 200 3.1 ms`: method, path (no query: it may hold a token), status, time; the
    same measurement goes to /metrics (issue 17), so each request is timed once."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

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
            elapsed = time.perf_counter() - start
            self.metrics.record(scope, status, elapsed)
            path = scope["path"]
            if status >= 400 or not (path in _QUIET_PATHS or path.startswith(_QUIET_PREFIX)):
                logger.bind(source="http").info("{} {} {} {:.1f} ms", scope["method"], path, status, elapsed * 1000)


class SecurityHeaders:
    """Headers every response gets, unless a handler chose its own: no inline or foreign scripts,
    no framing (clickjacking), no MIME sniffing, no full URLs (reset tokens) in Referer to others.
    Over HTTPS (TLS_CERT_FILE, or a trusted proxy saying so) also HSTS: browsers then refuse plain
    HTTP to this host, so a network attacker cannot strip TLS on a later visit."""

    HEADERS = (
        (
            b"content-security-policy",
            (
                b"default-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; "
                b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
            ),
        ),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    )
    HSTS = (b"strict-transport-security", b"max-age=31536000")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = (*self.HEADERS, self.HSTS) if scope.get("scheme") == "https" else self.HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
