"""Forgotten passwords: a reset link by mail, and setting the new password with it.

The link carries a "reset" JWT bound to the user's token_version, which the reset bumps: it works
once, and not after EMAIL_RESET_TOKEN_EXPIRE_HOURS. The API (web/api/password.py) and the pages
(web/pages/password.py) both come here.
"""

from __future__ import annotations

from loguru import logger
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from vcore_app import db, users
from vcore_app.auth.refresh import valid_user
from vcore_app.auth.tokens import InvalidToken, create_token, decode_token, lifetime
from vcore_app.models import User, pk
from vcore_app.notify import send_email
from vcore_app.settings import Settings

# One answer whether the address is known or not: the page and the API never tell which accounts exist.
RECOVERY_ANSWER = "If that address belongs to an account, a password reset link has been sent to it"
INVALID_LINK = "Invalid or expired reset link; ask for a new one"


def recoverable_user(*, session: Session, email: str) -> User | None:
    """The active account with this address, the only kind that gets a reset mail."""
    user = users.get_by_email(session=session, email=email)
    return user if user is not None and user.is_active else None


def send_reset_mail(*, settings: Settings, user: User) -> bool:
    """Mail the reset link (blocking SMTP: run it after the response, so the delay tells nothing)."""
    token, _ = create_token(settings=settings, kind="reset", user_id=pk(user), token_version=user.token_version)
    hours = int(lifetime(settings, "reset").total_seconds() // 3600)
    text = (
        f"Hello {user.full_name or user.username},\n\n"
        f"someone (hopefully you) asked to reset the password of your {settings.PROJECT_NAME} account "
        f'"{user.username}". Open this link within {hours} hours to choose a new one:\n\n'
        f"{settings.BASE_URL}/reset-password?token={token}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n"
    )
    return send_email(
        settings=settings, to=user.email, subject=f"{settings.PROJECT_NAME}: reset your password", text=text
    )


def _recoverable(engine: Engine, email: str) -> User | None:
    with db.session(engine, readonly=True) as session:
        return recoverable_user(session=session, email=email)


async def recovery_task(*, settings: Settings, engine: Engine, email: str) -> BackgroundTask | None:
    """What to run after answering a recovery request for `email`: the mail, or nothing.

    Sent after the response, so a known address does not answer slower than an unknown one.
    """
    if not settings.EMAILS_ENABLED:
        logger.info("a password reset was asked for, but EMAILS_ENABLED is off: no mail sent")
        return None
    user = await run_in_threadpool(_recoverable, engine, email)
    return BackgroundTask(send_reset_mail, settings=settings, user=user) if user is not None else None


def user_for_reset(*, session: Session, settings: Settings, token: str) -> User | None:
    """The account a reset link is for, while the link is unused and unexpired."""
    try:
        claims = decode_token(token, settings=settings, kind="reset")
    except InvalidToken:
        return None
    return valid_user(session=session, claims=claims)  # a used link no longer matches token_version


def reset_password(*, session: Session, settings: Settings, token: str, new_password: str) -> bool:
    """Set the new password (logging out every session); False when the link is invalid, used or expired."""
    user = user_for_reset(session=session, settings=settings, token=token)
    if user is None:
        return False
    users.set_password(session=session, user=user, password=new_password)
    return True
