"""First run: while no user exists, a random token opens `/setup` once, to create the first superuser.

There are no default credentials and never an open setup page: without the token (printed on the
console at start, kept only in this process's memory) `/setup` is a 404, whatever the host we
listen on. Once any user exists (from the page, FIRST_SUPERUSER_* or `vcore-app users create`),
the page is closed for good.
"""

from __future__ import annotations

import secrets

from sqlmodel import Session

from vcore_app.errors import AppError
from vcore_app.models import User, utcnow
from vcore_app.settings import Settings
from vcore_app.users import any_user_exists, create_user


def new_setup_token(*, session: Session) -> str | None:
    """A fresh token when no user exists yet; None when setup is over."""
    return None if any_user_exists(session=session) else secrets.token_urlsafe(32)


def setup_url(settings: Settings, token: str) -> str:
    return f"{settings.BASE_URL}/setup?token={token}"


def token_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


def create_first_superuser(*, session: Session, username: str, email: str, password: str, full_name: str = "") -> User:
    """Create the first superuser, unless someone else was first (the write transaction makes this atomic).

    The setup page logs its user in at once: that is the account's first login, recorded as
    `users.authenticate` records the later ones (else the users page says "never" to a logged-in user).
    """
    if any_user_exists(session=session):
        raise AppError("Setup is already done", 404)
    user = create_user(
        session=session, username=username, email=email, password=password, full_name=full_name, is_superuser=True
    )
    user.last_login_at = utcnow()
    session.add(user)
    return user
