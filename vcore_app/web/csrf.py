"""CSRF protection for cookie-authenticated requests: a double-submit token of our own.

The `csrftoken` cookie is readable by our pages (not HttpOnly); a state-changing request
authenticated by the session cookie must repeat it in the `X-CSRF-Token` header or a `csrf_token`
form field. Another site can make the browser send our cookies but cannot read them, so it cannot
repeat the token. Bearer and API-key requests carry no ambient credentials and need no token.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vcore_app.errors import AppError
from vcore_app.web.deps import settings
from vcore_app.web.validation import read_body

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_NEW = "vcore.csrf_new"


def is_https(conn: HTTPConnection) -> bool:
    return conn.url.scheme in ("https", "wss") or settings(conn).BASE_URL.startswith("https://")


def csrf_token(conn: HTTPConnection) -> str:
    """The token for a form or a page's scripts (templates call this); made on first use."""
    if not (token := conn.cookies.get(CSRF_COOKIE) or conn.scope.get(_NEW)):
        token = conn.scope[_NEW] = secrets.token_urlsafe(32)
    return token


def set_csrf_cookie(response: Response, conn: HTTPConnection, token: str | None = None) -> None:
    response.set_cookie(
        CSRF_COOKIE, token or secrets.token_urlsafe(32), path="/", samesite="lax", secure=is_https(conn)
    )


class CsrfProtect:
    """Pure ASGI: 403 for an unsafe cookie-authenticated request without the matching token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if scope["method"] not in _SAFE_METHODS and getattr(scope.get("user"), "via", "") == "cookie":
            given = request.headers.get(CSRF_HEADER, "")
            if not given and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                try:
                    body = await read_body(request)
                except AppError as exc:  # over the size limit
                    await JSONResponse({"detail": exc.message}, status_code=exc.status)(scope, receive, send)
                    return
                given = dict(parse_qsl(body.decode("utf-8", "replace"))).get(CSRF_FIELD, "")
                receive = _replay(body, receive)
            expected = request.cookies.get(CSRF_COOKIE, "")
            if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
                await JSONResponse({"detail": "CSRF token missing or wrong"}, status_code=403)(scope, receive, send)
                return

        async def send_new_cookie(message: Message) -> None:
            # A page that called csrf_token() for a browser without the cookie hands the cookie out.
            if message["type"] == "http.response.start" and scope.get(_NEW):
                holder = Response()
                set_csrf_cookie(holder, request, scope[_NEW])
                message.setdefault("headers", []).extend(holder.raw_headers[-1:])
            await send(message)

        await self.app(scope, receive, send_new_cookie)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the handler the body we read; later messages (disconnect) come from the client."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
