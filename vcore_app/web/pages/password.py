"""`/forgot-password` and `/reset-password`: a forgotten password, by mail (auth/recovery.py).

The forgot page answers the same for every address (no way to learn which accounts exist); the
mail goes out after the response. Without EMAILS_ENABLED it says so and where else to turn.
"""

from __future__ import annotations

from pydantic import BaseModel, EmailStr
from starlette.requests import Request
from starlette.responses import Response

from vcore_app.auth import recovery
from vcore_app.errors import AppError
from vcore_app.web import flash
from vcore_app.web.deps import in_db, runtime, settings
from vcore_app.web.errors import form_errors
from vcore_app.web.forms import NewPasswordTwice
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form, validate


class ForgotForm(BaseModel):
    email: EmailStr


class ResetForm(NewPasswordTwice):
    token: str


def _forgot(request: Request, status: int = 200, **context: object) -> Response:
    base = {"emails_enabled": settings(request).EMAILS_ENABLED, "email": "", "errors": {}, "sent": False}
    return render(request, "password/forgot.html", {**base, **context}, status=status)


async def forgot_page(request: Request) -> Response:
    return _forgot(request)


async def forgot_submit(request: Request) -> Response:
    fields = await read_form(request)
    try:
        form = validate(ForgotForm, {"email": fields.get("email", "").strip()})
    except AppError as exc:
        return _forgot(request, exc.status, email=fields.get("email", ""), errors=form_errors(exc)[0])
    task = await recovery.recovery_task(settings=settings(request), engine=runtime(request).engine, email=form.email)
    response = _forgot(request, sent=True, message=recovery.RECOVERY_ANSWER)
    response.background = task
    return response


def _reset_page(request: Request, token: str, status: int = 200, **context: object) -> Response:
    return render(
        request, "password/reset.html", {"token": token, "errors": {}, "error": None, **context}, status=status
    )


async def reset_page(request: Request) -> Response:
    """Check the link before asking for a password, so a used or expired one says so at once."""
    token = request.query_params.get("token", "")
    config = settings(request)
    user = await in_db(
        request, lambda s: recovery.user_for_reset(session=s, settings=config, token=token), readonly=True
    )
    if user is None:
        return _reset_page(request, "", 400, error=recovery.INVALID_LINK)
    return _reset_page(request, token)


async def reset_submit(request: Request) -> Response:
    fields = await read_form(request)
    token = fields.get("token", "")
    try:
        form = validate(ResetForm, fields)
    except AppError as exc:
        return _reset_page(request, token, exc.status, errors=form_errors(exc)[0])
    config = settings(request)
    changed = await in_db(
        request,
        lambda s: recovery.reset_password(session=s, settings=config, token=form.token, new_password=form.password),
    )
    if not changed:
        return _reset_page(request, "", 400, error=recovery.INVALID_LINK)
    return flash.redirect(request, "/login", "Password changed; log in with the new one.")
