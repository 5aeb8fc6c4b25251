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


async def _closed(request: Request, token: str | None) -> Response | None:
    """Why the form is not shown, or None while it is open: 404 unless the token is the one printed
    at start, so it is never an open page. Once a user exists, whoever follows the link again (the
    person who just set up, from the console or a bookmark) learns that setup is done and where to
    log in, a 410 instead of a bare 404: a user existing is no secret the login page does not tell."""
    active = runtime(request)
    if await in_db(request, lambda session: any_user_exists(session=session), readonly=True):
        active.setup_token = None
        return render(request, "setup/done.html", status=410)
    if not token_matches(active.setup_token, token):
        raise AppError("Not Found", 404)
    return None


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
    return await _closed(request, token) or _render(request, token or "", {})


async def setup_submit(request: Request) -> Response:
    fields = await read_form(request)
    token = fields.get("token", "")
    closed = await _closed(request, token)
    if closed is not None:
        return closed
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
