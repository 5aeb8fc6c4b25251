"""`/setup?token=...`: the first-run page creating the first superuser (first_run.py says when it is open)."""

from __future__ import annotations

from typing import Any

from pydantic import EmailStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app import db
from vcore_app.auth.session import set_session_cookie
from vcore_app.errors import AppError
from vcore_app.first_run import create_first_superuser, token_matches
from vcore_app.models import User
from vcore_app.users import any_user_exists
from vcore_app.web.forms import NewPasswordTwice, form_errors
from vcore_app.web.schemas import FullName, Username
from vcore_app.web.templating import render
from vcore_app.web.validation import form_fields, validate


class SetupForm(NewPasswordTwice):
    username: Username
    email: EmailStr
    full_name: FullName = ""


def _still_open(request: Request, token: str | None) -> None:
    """404 unless the token is the one printed at start and no user exists yet: never an open page."""
    runtime = request.app.state.runtime
    if not token_matches(runtime.setup_token, token):
        raise AppError("Not Found", 404)
    with db.session(runtime.engine, readonly=True) as session:
        if any_user_exists(session=session):
            runtime.setup_token = None
            raise AppError("Not Found", 404)


def _render(request: Request, token: str, form: dict[str, Any], exc: AppError | None = None) -> Response:
    errors, error = form_errors(exc) if exc else ({}, None)
    context = {"token": token, "errors": errors, "error": error,
               "form": {name: form.get(name, "") for name in ("username", "email", "full_name")}}
    return render(request, "setup/setup.html", context, status=exc.status if exc else 200)


async def setup_page(request: Request) -> Response:
    token = request.query_params.get("token")
    await run_in_threadpool(_still_open, request, token)
    return _render(request, token or "", {})


def _create(request: Request, form: SetupForm) -> User:
    with db.session(request.app.state.runtime.engine) as session:
        user = create_first_superuser(session=session, username=form.username, email=form.email,
                                      password=form.password, full_name=form.full_name)
    request.app.state.runtime.setup_token = None
    return user


async def setup_submit(request: Request) -> Response:
    fields = await form_fields(request)
    token = fields.get("token", "")
    await run_in_threadpool(_still_open, request, token)
    try:
        form = validate(SetupForm, fields)
    except AppError as exc:
        return _render(request, token, fields, exc)
    user = await run_in_threadpool(_create, request, form)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, user)
    return response
