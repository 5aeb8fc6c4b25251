"""The browser session: a cookie holding a "session" JWT, set by the HTML login form.

The cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' forms and fetches do
not carry it, top-level links do) and Secure when the app is served over https. A session token is
its own kind, so it is useless as a Bearer token and vice versa. Logging out records its jti in
`revoked_token`, so a copied cookie dies with the logout and not only at its expiry.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.auth.refresh import revoke
from vcore_app.auth.tokens import InvalidToken, create_token, decode_token, lifetime
from vcore_app.models import User, pk
from vcore_app.web.csrf import is_https, set_csrf_cookie
from vcore_app.web.deps import in_db, settings


def set_session_cookie(response: Response, request: Request, user: User) -> None:
    """Log the browser in as `user` (call after checking the password), with a fresh CSRF token."""
    config = settings(request)
    token, _ = create_token(settings=config, kind="session", user_id=pk(user), token_version=user.token_version)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime(config, "session").total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    set_csrf_cookie(response, request)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


async def end_session(request: Request, response: Response) -> None:
    """Log the browser out: revoke its session token server-side and clear the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claims = decode_token(token, settings=settings(request), kind="session")
        except InvalidToken:
            claims = None
        if claims is not None:
            await in_db(request, lambda session: revoke(session=session, claims=claims, kind="session"))
    clear_session_cookie(response)
