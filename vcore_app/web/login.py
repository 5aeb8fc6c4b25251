"""Checking a password at login, the one way the API and the HTML form both use: throttled, with
the argon2 work off the event loop, and one answer for unknown user and wrong password alike.
"""

from __future__ import annotations

from starlette.requests import Request

from vcore_app import audit
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.users import authenticate
from vcore_app.web.deps import in_db, login_throttle

BAD_LOGIN = "Incorrect username or password"


async def check_login(request: Request, username: str, password: str) -> User:
    """The user, or AppError 401 (wrong credentials) / 429 (too many recent failures)."""
    throttle = login_throttle(request)
    address = request.client.host if request.client else "unknown"
    try:
        throttle.check(username, address)
    except AppError:
        await _audit_login(request, username, address, audit.DENIED)
        raise
    # argon2 (~0.1 s) and the last-login stamp, in one short transaction off the event loop
    user = await in_db(request, lambda session: authenticate(session=session, username=username, password=password))
    if user is None:
        throttle.failed(username, address)
        await _audit_login(request, username, address, audit.FAILED)
        raise AppError(BAD_LOGIN, 401, headers={"WWW-Authenticate": "Bearer"})
    throttle.succeeded(username, address)
    await _audit_login(request, user.username, address, audit.OK)
    return user


async def _audit_login(request: Request, username: str, address: str, outcome: str) -> None:
    """Every login attempt, with its address (issue 17). The name as typed, cut short: never the password."""
    await in_db(
        request,
        lambda session: audit.record(
            session, action="login", target=username[:64], actor=username[:64], address=address, outcome=outcome
        ),
    )
