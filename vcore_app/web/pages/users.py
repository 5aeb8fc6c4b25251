"""`/users...` (superusers): list, create, edit, deactivate, make superuser, delete.

The rules (unique names, the last active superuser, logging a deactivated user out) live in
users.py, the same functions the API calls; a broken rule comes back as a message above the form.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app import users
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.web import flash
from vcore_app.web.deps import in_db, superuser
from vcore_app.web.errors import form_errors
from vcore_app.web.schemas import UserCreate, UserUpdate, changes
from vcore_app.web.session import set_session_cookie
from vcore_app.web.templating import render
from vcore_app.web.validation import query_params, read_form, validate

PAGE_SIZE = 50
_TEXT_FIELDS = ("username", "email", "full_name")


class ListQuery(BaseModel):
    page: int = Field(1, ge=1)


def _get(session: Session, user_id: int) -> User:
    return users.get_user(session=session, user_id=user_id)


async def users_list(request: Request) -> Response:
    superuser(request)
    page = query_params(request, ListQuery).page
    items, total = await in_db(
        request, lambda s: users.list_users(session=s, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE), readonly=True
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render(
        request, "users/list.html", {"nav": "Users", "users": items, "total": total, "page": page, "pages": pages}
    )


def _posted_user(fields: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """Form fields -> the API's input shape: unchecked boxes are False, an empty password means "keep"."""
    data: dict[str, Any] = {name: fields.get(name, "").strip() for name in _TEXT_FIELDS}
    data.update(is_active="is_active" in fields, is_superuser="is_superuser" in fields)
    if creating or fields.get("password"):
        data["password"] = fields.get("password", "")
    return data


def _form(request: Request, user: User | None, values: dict[str, Any], exc: AppError | None = None) -> Response:
    errors, error = form_errors(exc) if exc else ({}, None)
    return render(
        request,
        "users/edit.html",
        {"nav": "Users", "edited": user, "values": values, "errors": errors, "error": error},
        status=exc.status if exc else 200,
    )


async def new_user_page(request: Request) -> Response:
    superuser(request)
    return _form(request, None, {"is_active": True})


async def create_user(request: Request) -> Response:
    superuser(request)
    values = _posted_user(await read_form(request), creating=True)
    try:
        body = validate(UserCreate, values)
        created = await in_db(
            request,
            lambda s: users.create_user(
                session=s,
                username=body.username,
                email=body.email,
                password=body.password,
                full_name=body.full_name,
                is_superuser=body.is_superuser,
                is_active=body.is_active,
            ),
        )
    except AppError as exc:
        return _form(request, None, values, exc)
    return flash.redirect(request, f"/users/{created.id}", f"User {created.username} created.")


async def user_page(request: Request) -> Response:
    superuser(request)
    user_id = request.path_params["id"]
    user = await in_db(request, lambda s: _get(s, user_id), readonly=True)
    return _form(
        request,
        user,
        {
            **{name: getattr(user, name) for name in _TEXT_FIELDS},
            "is_active": user.is_active,
            "is_superuser": user.is_superuser,
        },
    )


def _saved(request: Request, me: User, user: User, message: str) -> Response:
    response = RedirectResponse(
        f"/users/{user.id}" if user.is_superuser or user.id != me.id else "/profile", status_code=303
    )
    if user.id == me.id:  # a new password or a deactivation bumped the token version: keep this browser in step
        set_session_cookie(response, request, user)
    flash.add(request, response, level="success", message=message)
    return response


async def update_user(request: Request) -> Response:
    me = superuser(request)
    user_id = request.path_params["id"]
    values = _posted_user(await read_form(request), creating=False)
    try:
        body = validate(UserUpdate, values)
        user = await in_db(
            request, lambda s: users.update_user(session=s, user=_get(s, user_id), changes=changes(body))
        )
    except AppError as exc:
        edited = await in_db(request, lambda s: _get(s, user_id), readonly=True)
        return _form(request, edited, values, exc)
    return _saved(request, me, user, "Saved.")


class FlagChange(BaseModel):
    """One switch from the buttons of the edit page: deactivate or activate, grant or revoke superuser."""

    is_active: bool | None = None
    is_superuser: bool | None = None


def _refused(request: Request, user_id: int, exc: AppError) -> Response:
    """A rule said no (the last active superuser): back to the user's page, saying why."""
    if exc.status == 404:
        raise exc
    return flash.redirect(request, f"/users/{user_id}", exc.message, "danger")


async def set_flag(request: Request) -> Response:
    me = superuser(request)
    user_id = request.path_params["id"]
    change = changes(validate(FlagChange, await read_form(request)))
    try:
        user = await in_db(request, lambda s: users.update_user(session=s, user=_get(s, user_id), changes=change))
    except AppError as exc:
        return _refused(request, user_id, exc)
    return _saved(request, me, user, "Saved.")


def _delete(session: Session, user_id: int) -> str:
    user = _get(session, user_id)
    users.delete_user(session=session, user=user)
    return user.username


async def delete_user(request: Request) -> Response:
    superuser(request)
    user_id = request.path_params["id"]
    try:
        username = await in_db(request, lambda s: _delete(s, user_id))
    except AppError as exc:
        return _refused(request, user_id, exc)
    return flash.redirect(request, "/users", f"User {username} deleted.")
