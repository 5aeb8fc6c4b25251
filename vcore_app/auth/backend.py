"""Who is asking: the authentication backend and the default-deny gate.

Every request passes the gate: a path not on the public list needs credentials, so a route added
later is protected without anyone remembering to protect it. Roles are checked in handlers (guards).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from urllib.parse import quote

from vcore_app import db
from vcore_app.auth.tokens import InvalidToken, decode_token
from vcore_app.models import User


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


def user_from_access_token(conn: HTTPConnection, token: str) -> User | None:
    runtime = conn.app.state.runtime
    try:
        claims = decode_token(token, settings=runtime.settings, kind="access")
    except InvalidToken:
        return None
    with db.session(runtime.engine, readonly=True) as session:
        user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active or user.token_version != claims["ver"]:
        return None
    return user


class AppAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = bearer_token(conn) or (conn.query_params.get("token") if conn.scope["type"] == "websocket" else None)
        if token:
            user = user_from_access_token(conn, token)
            if user is not None:
                return _credentials(user), Principal(user, "token")
        return None


def _credentials(user: User) -> AuthCredentials:
    return AuthCredentials(["authenticated", "superuser"] if user.is_superuser else ["authenticated"])


class RequireAuthentication:
    """Default deny: 401 for the API, a redirect to /login for pages, close 1008 for WebSockets."""

    def __init__(self, app: ASGIApp, *, is_public: "callable[[str], bool]") -> None:  # type: ignore[valid-type]
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
        if path.startswith("/api/"):
            response = JSONResponse({"detail": "Not authenticated"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        else:
            query = scope.get("query_string", b"").decode()
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)
