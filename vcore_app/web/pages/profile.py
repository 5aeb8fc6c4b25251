"""`/profile`: one's own name and e-mail, password, API keys and "log out everywhere".

Changing the password and logging out everywhere bump the token version, which ends every session
of the user, this browser's too; this browser then gets a fresh session cookie and stays logged in
(the person in front of it just proved who they are), like the API answering with new tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from vcore_app import users
from vcore_app.auth import apikeys
from vcore_app.errors import AppError
from vcore_app.models import User, utcnow
from vcore_app.web import flash
from vcore_app.web.deps import actor, actor_id, in_db
from vcore_app.web.errors import form_errors
from vcore_app.web.forms import NewPasswordTwice
from vcore_app.web.schemas import UserUpdateMe, changes
from vcore_app.web.session import set_session_cookie
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form, validate

EXPIRY_CHOICES = {"": "Never", "30": "In 30 days", "90": "In 90 days", "365": "In a year"}


class PasswordChange(NewPasswordTwice):
    current_password: str = Field(min_length=1, max_length=1024)


class ApiKeyForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: Literal["", "30", "90", "365"] = ""


def _me(session: Session, request: Request) -> User:
    """The user as stored now (the request's copy was loaded before this request changed it)."""
    return users.get_user(session=session, user_id=actor_id(request))


async def _page(request: Request, exc: AppError | None = None, values: dict[str, Any] | None = None) -> Response:
    errors, error = form_errors(exc) if exc else ({}, None)
    user = actor(request)
    keys = await in_db(request, lambda s: apikeys.list_api_keys(session=s, user=user), readonly=True)
    new_key = flash.take_secret(request)  # a key created by the POST that redirected here, shown this once
    context = {
        "nav": "Profile",
        "keys": keys,
        "new_key": new_key,
        "now": utcnow(),
        "expiry_choices": EXPIRY_CHOICES,
        "errors": errors,
        "error": error,
        "values": {"full_name": user.full_name, "email": user.email, **(values or {})},
    }
    # A form shown again with errors next to its fields is a 422, whatever the rule's own status.
    status = (422 if errors else exc.status) if exc else 200
    response = render(request, "profile/profile.html", context, status=status)
    flash.forget_secret(request, response)
    if new_key is not None:
        response.headers["Cache-Control"] = "no-store"  # the key is stored nowhere: not in a cache either
    return response


def _back(request: Request, message: str, user: User | None = None) -> Response:
    """To the profile page with a notice; with `user`, a fresh session cookie for its new token version."""
    response = flash.redirect(request, "/profile", message)
    if user is not None:
        set_session_cookie(response, request, user)
    return response


async def profile_page(request: Request) -> Response:
    return await _page(request)


async def update_profile(request: Request) -> Response:
    fields = await read_form(request)
    values = {"full_name": fields.get("full_name", "").strip(), "email": fields.get("email", "").strip()}
    try:
        body = validate(UserUpdateMe, values)
        await in_db(request, lambda s: users.update_user(session=s, user=_me(s, request), changes=changes(body)))
    except AppError as exc:
        return await _page(request, exc, values)
    return _back(request, "Profile saved.")


async def change_password(request: Request) -> Response:
    fields = await read_form(request)
    try:
        form = validate(PasswordChange, fields)
        user = await in_db(request, lambda s: _change_password(s, request, form))
    except AppError as exc:
        return await _page(request, exc)
    return _back(request, "Password changed. Your other sessions and tokens are logged out.", user)


def _change_password(session: Session, request: Request, form: PasswordChange) -> User:
    user = _me(session, request)
    users.change_password(
        session=session, user=user, current_password=form.current_password, new_password=form.password
    )
    return user


async def logout_everywhere(request: Request) -> Response:
    def revoke(session: Session) -> User:
        user = _me(session, request)
        users.revoke_all_tokens(session=session, user=user)
        return user

    user = await in_db(request, revoke)
    return _back(
        request, "Logged out everywhere else: every other session and token of yours has stopped working.", user
    )


async def create_api_key(request: Request) -> Response:
    fields = await read_form(request)
    try:
        form = validate(ApiKeyForm, fields)
    except AppError as exc:
        return await _page(request, exc, {"name": fields.get("name", "")})
    expires_at = utcnow() + timedelta(days=int(form.expires_in_days)) if form.expires_in_days else None
    user = actor(request)
    row, key = await in_db(
        request, lambda s: apikeys.create_api_key(session=s, user=user, name=form.name, expires_at=expires_at)
    )
    # Redirect, then show: a reload of the page showing the key must not post the form again.
    response = flash.redirect(request, "/profile", f"API key {row.name} created.")
    flash.hold_secret(
        request,
        response,
        {"name": row.name, "key": key, "prefix": row.prefix, "expires_at": row.expires_at},
    )
    return response


async def delete_api_key(request: Request) -> Response:
    user, key_id = actor(request), request.path_params["id"]
    await in_db(request, lambda s: apikeys.delete_api_key(session=s, user=user, key_id=key_id))
    return _back(request, "API key revoked.")
