"""Role checks for handlers. Authentication itself is enforced for every non-public path by the gate."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from vcore_app.errors import AppError
from vcore_app.models import User


def current_user(conn: HTTPConnection) -> User:
    principal = conn.scope.get("user")
    if principal is None or not principal.is_authenticated:
        raise AppError("Not authenticated", 401, headers={"WWW-Authenticate": "Bearer"})
    return principal.user


def require_superuser(conn: HTTPConnection) -> User:
    user = current_user(conn)
    if not user.is_superuser:
        raise AppError("This needs a superuser", 403)
    return user
