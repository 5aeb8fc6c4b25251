"""Forgotten passwords: `/password-recovery/{email}` mails a reset link, `/reset-password/` uses it.

The recovery answer is the same whether the address is known or not, and takes the same time: the
mail goes out after the response (a background task), so neither the body nor the delay tells.
The reset token is a "reset" JWT bound to the user's token_version, which the reset bumps: it works
once, and not after EMAIL_RESET_TOKEN_EXPIRE_HOURS.
"""

from __future__ import annotations

from loguru import logger
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import db, users
from vcore_app.auth.refresh import valid_user
from vcore_app.auth.tokens import InvalidToken, create_token, decode_token, lifetime
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.notify import send_email
from vcore_app.settings import Settings
from vcore_app.web.schemas import ResetPassword
from vcore_app.web.validation import json_body

RECOVERY_ANSWER = "If that address belongs to an account, a password reset link has been sent to it"


def _find(request: Request, email: str) -> User | None:
    with db.session(request.app.state.runtime.engine, readonly=True) as session:
        user = users.get_by_email(session=session, email=email)
    return user if user is not None and user.is_active else None


def _send_reset_mail(settings: Settings, user: User) -> None:
    token, _ = create_token(settings=settings, kind="reset", user_id=user.id, token_version=user.token_version)
    hours = int(lifetime(settings, "reset").total_seconds() // 3600)
    text = (
        f"Hello {user.full_name or user.username},\n\n"
        f"someone (hopefully you) asked to reset the password of your {settings.PROJECT_NAME} account "
        f"\"{user.username}\". Open this link within {hours} hours to choose a new one:\n\n"
        f"{settings.BASE_URL}/reset-password?token={token}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n"
    )
    send_email(settings=settings, to=user.email, subject=f"{settings.PROJECT_NAME}: reset your password", text=text)


async def password_recovery(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    user = await run_in_threadpool(_find, request, request.path_params["email"])
    task = None
    if not settings.EMAILS_ENABLED:
        logger.info("a password reset was asked for, but EMAILS_ENABLED is off: no mail sent")
    elif user is not None:
        task = BackgroundTask(_send_reset_mail, settings, user)
    return JSONResponse({"message": RECOVERY_ANSWER}, background=task)


def _reset(request: Request, body: ResetPassword) -> bool:
    try:
        claims = decode_token(body.token, settings=request.app.state.settings, kind="reset")
    except InvalidToken:
        return False
    with db.session(request.app.state.runtime.engine) as session:
        user = valid_user(session=session, claims=claims)  # a used link no longer matches token_version
        if user is None:
            return False
        users.set_password(session=session, user=user, password=body.new_password)
    return True


async def reset_password(request: Request) -> JSONResponse:
    body = await json_body(request, ResetPassword)
    if not await run_in_threadpool(_reset, request, body):
        raise AppError("Invalid or expired reset link; ask for a new one", 400)
    return JSONResponse({"message": "Password updated; log in with the new one"})
