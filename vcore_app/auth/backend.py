"""Who is asking: the authentication backend and the default-deny gate.

Credentials, first found wins (a wrong one is not retried with the next):
- `Authorization: Bearer <access JWT>` (via "token") or `Bearer vc_...` (via "api_key");
- `X-API-Key: vc_...` (via "api_key");
- `?token=` on a WebSocket, for clients that cannot set headers (via "token" or "api_key");
- the browser's session cookie (via "cookie"). State-changing requests by cookie also need the CSRF
  token (web/csrf.py); a WebSocket by cookie must come from our own origin, because browsers do not
  apply the same-origin policy to WebSockets (cross-site WebSocket hijacking).

Every request passes the gate: a path not on the public list needs credentials, so a route added
later is protected without anyone remembering to protect it. Roles are checked by `superuser()` in
web/deps.py for superuser-only routes, and by the domain functions for rules about data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from sqlalchemy import Engine
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vcore_app import db
from vcore_app.auth import apikeys
from vcore_app.auth.refresh import is_revoked, valid_user
from vcore_app.auth.tokens import InvalidToken, TokenType, decode_token
from vcore_app.models import User
from vcore_app.settings import Settings

SESSION_COOKIE = "vcore_session"  # the browser session (web/session.py sets and clears it)


@dataclass
class Principal(BaseUser):
    """An authenticated user and how it proved who it is ("token", "api_key", "cookie")."""

    user: User
    via: str

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.user.username

    @property
    def identity(self) -> str:
        return str(self.user.id)


def bearer_token(conn: HTTPConnection) -> str | None:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def same_origin(conn: HTTPConnection) -> bool:
    """Whether the browser says the page that opened this connection is one of ours.

    Ours: the origin of BASE_URL, or the scheme and Host the request came in with.
    """
    origin = conn.headers.get("origin", "").rstrip("/").lower()
    if not origin:
        return False
    base = urlsplit(conn.app.state.settings.BASE_URL)
    scheme = "https" if conn.url.scheme in ("https", "wss") else "http"
    own = {f"{base.scheme}://{base.netloc}".lower(), f"{scheme}://{conn.headers.get('host', '')}".lower()}
    return origin in own


def credential(conn: HTTPConnection) -> tuple[str, str] | None:
    """(via, secret) of the first credential the request carries."""
    token = bearer_token(conn) or conn.headers.get("x-api-key")
    if not token and conn.scope["type"] == "websocket":
        token = conn.query_params.get("token")
    if token:
        return ("api_key" if apikeys.looks_like_key(token) else "token"), token
    cookie = conn.cookies.get(SESSION_COOKIE)
    return ("cookie", cookie) if cookie else None


# (the user, when the credential expires as a Unix time or None for never), or None
Resolved = tuple[User, float | None] | None


def _user_for_jwt(engine: Engine, settings: Settings, token: str, kind: TokenType) -> Resolved:
    try:
        claims = decode_token(token, settings=settings, kind=kind)
    except InvalidToken:
        return None
    with db.session(engine, readonly=True) as session:
        user = valid_user(session=session, claims=claims)
        if user is not None and kind == "session" and is_revoked(session=session, jti=claims["jti"]):
            return None  # logged out
    return (user, float(claims["exp"])) if user is not None else None


def _user_for_api_key(engine: Engine, key: str) -> Resolved:
    with db.session(engine, readonly=True) as session:
        found = apikeys.find_key(session=session, key=key)
    if found is None:
        return None
    row, user = found
    if apikeys.needs_touch(row):  # a separate short write, only once a minute per key
        with db.session(engine) as session:
            assert row.id is not None  # a stored row
            apikeys.touch(session=session, key_id=row.id)
    return user, row.expires_at.timestamp() if row.expires_at else None


def resolve(conn: HTTPConnection, via: str, secret: str) -> User | None:
    """The active user a credential stands for, or None. Blocking (database on a cache miss): run it
    in a thread."""
    runtime = conn.app.state.runtime
    cached: User | None = runtime.credentials.get(via, secret)
    if cached is not None:
        return cached
    if via == "api_key":
        resolved = _user_for_api_key(runtime.engine, secret)
    else:
        resolved = _user_for_jwt(runtime.engine, runtime.settings, secret, "session" if via == "cookie" else "access")
    if resolved is None:
        return None
    user, expires = resolved
    runtime.credentials.put(via, secret, user, expires=expires)
    return user


def credential_expiry(conn: HTTPConnection, via: str, secret: str) -> float | None:
    """When the credential expires (a Unix time), None if never or not valid. Blocking (database)."""
    runtime = conn.app.state.runtime
    if via == "api_key":
        with db.session(runtime.engine, readonly=True) as session:
            found = apikeys.find_key(session=session, key=secret)
        return found[0].expires_at.timestamp() if found and found[0].expires_at else None
    try:
        claims = decode_token(secret, settings=runtime.settings, kind="session" if via == "cookie" else "access")
    except InvalidToken:
        return None
    return float(claims["exp"])


class AppAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        found = credential(conn)
        if found is None:
            return None
        via, secret = found
        if via == "cookie" and conn.scope["type"] == "websocket" and not same_origin(conn):
            return None
        user = await run_in_threadpool(resolve, conn, via, secret)
        if user is None:
            return None
        # One scope for all: roles are not scopes (web/deps.py says where they are checked).
        return AuthCredentials(["authenticated"]), Principal(user, via)


class RequireAuthentication:
    """Default deny: 401 for the API, a redirect to /login for pages, close 1008 for WebSockets."""

    def __init__(self, app: ASGIApp, *, is_public: Callable[[str], bool]) -> None:
        self.app = app
        self.is_public = is_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        if user is not None and user.is_authenticated:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "authentication required"})
            return
        path = scope["path"]
        response: Response
        if path.startswith("/api/"):
            response = JSONResponse(
                {"detail": "Not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        else:
            query = scope.get("query_string", b"").decode()
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)
