"""`/setup?token=...`: the first-run page creating the first superuser (first_run.py says when it is open)."""

from __future__ import annotations

from typing import Any

from pydantic import EmailStr
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app.errors import AppError
from vcore_app.first_run import create_first_superuser, token_matches
from vcore_app.users import FullName, Username, any_user_exists
from vcore_app.web.deps import in_db, runtime
from vcore_app.web.errors import form_errors
from vcore_app.web.forms import NewPasswordTwice
from vcore_app.web.session import set_session_cookie
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form, validate


class SetupForm(NewPasswordTwice):
    username: Username
    email: EmailStr
    full_name: FullName = ""


async def _still_open(request: Request, token: str | None) -> None:
    """404 unless the token is the one printed at start and no user exists yet: never an open page."""
    active = runtime(request)
    if not token_matches(active.setup_token, token):
        raise AppError("Not Found", 404)
    if await in_db(request, lambda session: any_user_exists(session=session), readonly=True):
        active.setup_token = None
        raise AppError("Not Found", 404)


def _render(request: Request, token: str, form: dict[str, Any], exc: AppError | None = None) -> Response:
    errors, error = form_errors(exc) if exc else ({}, None)
    context = {
        "token": token,
        "errors": errors,
        "error": error,
        "form": {name: form.get(name, "") for name in ("username", "email", "full_name")},
    }
    return render(request, "setup/setup.html", context, status=exc.status if exc else 200)


async def setup_page(request: Request) -> Response:
    token = request.query_params.get("token")
    await _still_open(request, token)
    return _render(request, token or "", {})


async def setup_submit(request: Request) -> Response:
    fields = await read_form(request)
    token = fields.get("token", "")
    await _still_open(request, token)
    try:
        form = validate(SetupForm, fields)
    except AppError as exc:
        return _render(request, token, fields, exc)
    user = await in_db(
        request,
        lambda session: create_first_superuser(
            session=session, username=form.username, email=form.email, password=form.password, full_name=form.full_name
        ),
    )
    runtime(request).setup_token = None
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, user)
    return response
