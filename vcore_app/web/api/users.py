"""Accounts: `/register`, `/users/me...` (any user, about itself), `/users/...` (superusers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import db, users
from vcore_app.auth import refresh
from vcore_app.auth.guards import current_user, require_superuser
from vcore_app.auth.session import SESSION_COOKIE, set_session_cookie
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.web.schemas import (
    Page,
    UpdatePassword,
    UserCreate,
    UserPublic,
    UserRegister,
    UserUpdate,
    UserUpdateMe,
    changes,
)
from vcore_app.web.validation import json_body, query_params


def _engine(request: Request) -> Engine:
    return request.app.state.runtime.engine


def _create(request: Request, body: UserRegister, **flags: bool) -> User:
    with db.session(_engine(request)) as session:
        user = users.create_user(session=session, username=body.username, email=body.email, password=body.password,
                                 full_name=body.full_name, **flags)
    return user


async def register(request: Request) -> JSONResponse:
    if not request.app.state.settings.USERS_OPEN_REGISTRATION:
        raise AppError("Open registration is disabled on this server; ask an administrator for an account", 403)
    body = await json_body(request, UserRegister)
    user = await run_in_threadpool(_create, request, body)
    return JSONResponse(UserPublic.of(user), status_code=201)


async def me(request: Request) -> JSONResponse:
    return JSONResponse(UserPublic.of(current_user(request)))


def _update(request: Request, user_id: int, fields: dict[str, Any]) -> User:
    with db.session(_engine(request)) as session:
        user = _get(session, user_id)
        return users.update_user(session=session, user=user, changes=fields)


def _get(session: Session, user_id: int) -> User:
    return users.get_user(session=session, user_id=user_id)


async def update_me(request: Request) -> JSONResponse:
    user = current_user(request)
    body = await json_body(request, UserUpdateMe)
    updated = await run_in_threadpool(_update, request, user.id, changes(body))
    return JSONResponse(UserPublic.of(updated))


def _change_password(request: Request, user_id: int, body: UpdatePassword) -> User:
    with db.session(_engine(request)) as session:
        user = _get(session, user_id)
        users.change_password(session=session, user=user, current_password=body.current_password,
                              new_password=body.new_password)
    return user


def _fresh_credentials(request: Request, user: User) -> JSONResponse:
    """After logging a user out everywhere, keep this client logged in with new tokens (and cookie)."""
    response = JSONResponse(refresh.issue_pair(settings=request.app.state.settings, user=user))
    if request.cookies.get(SESSION_COOKIE):
        set_session_cookie(response, request, user)
    return response


async def update_my_password(request: Request) -> JSONResponse:
    """Change the password: every other session and token is logged out; this one gets new tokens."""
    body = await json_body(request, UpdatePassword)
    user = await run_in_threadpool(_change_password, request, current_user(request).id, body)
    return _fresh_credentials(request, user)


def _logout_all(request: Request, user_id: int) -> User:
    with db.session(_engine(request)) as session:
        user = _get(session, user_id)
        users.revoke_all_tokens(session=session, user=user)
    return user


async def logout_all(request: Request) -> JSONResponse:
    """Log out everywhere: every token and browser session issued before stops working."""
    user = await run_in_threadpool(_logout_all, request, current_user(request).id)
    return _fresh_credentials(request, user)


def _list(request: Request, page: Page) -> dict[str, Any]:
    with db.session(_engine(request), readonly=True) as session:
        items, total = users.list_users(session=session, limit=page.limit, offset=page.offset)
    return {"items": [UserPublic.of(user) for user in items], "total": total}


async def list_users(request: Request) -> JSONResponse:
    require_superuser(request)
    return JSONResponse(await run_in_threadpool(_list, request, query_params(request, Page)))


async def create_user(request: Request) -> JSONResponse:
    require_superuser(request)
    body = await json_body(request, UserCreate)
    user = await run_in_threadpool(_create, request, body, is_superuser=body.is_superuser, is_active=body.is_active)
    return JSONResponse(UserPublic.of(user), status_code=201)


def _read(request: Request, user_id: int) -> User:
    with db.session(_engine(request), readonly=True) as session:
        return _get(session, user_id)


async def get_user(request: Request) -> JSONResponse:
    """A superuser sees anyone; a regular user only itself."""
    user_id = request.path_params["id"]
    if current_user(request).id != user_id:
        require_superuser(request)
    return JSONResponse(UserPublic.of(await run_in_threadpool(_read, request, user_id)))


async def update_user(request: Request) -> JSONResponse:
    require_superuser(request)
    body = await json_body(request, UserUpdate)
    user = await run_in_threadpool(_update, request, request.path_params["id"], changes(body))
    return JSONResponse(UserPublic.of(user))


def _delete(request: Request, user_id: int) -> None:
    with db.session(_engine(request)) as session:
        users.delete_user(session=session, user=_get(session, user_id))


async def delete_user(request: Request) -> JSONResponse:
    require_superuser(request)
    await run_in_threadpool(_delete, request, request.path_params["id"])
    return JSONResponse({"message": "User deleted"})
