"""Accounts: `/register`, `/users/me...` (any user, about itself), `/users/...` (superusers)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import users
from vcore_app.auth import refresh
from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.users import UserRegister
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, actor_id, in_db, settings, superuser
from vcore_app.web.schemas import (
    Message,
    Page,
    TokenPair,
    UpdatePassword,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
    UserUpdateMe,
    changes,
)
from vcore_app.web.session import set_session_cookie
from vcore_app.web.validation import json_body, query_params


def _create(session: Session, body: UserRegister, **flags: bool) -> dict[str, Any]:
    return UserPublic.of(
        users.create_user(
            session=session,
            username=body.username,
            email=body.email,
            password=body.password,
            full_name=body.full_name,
            **flags,
        )
    )


def _update(session: Session, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    user = users.get_user(session=session, user_id=user_id)
    return UserPublic.of(users.update_user(session=session, user=user, changes=fields))


@operation(
    "Create an account (when open registration is on)",
    tags=["users"],
    body=UserRegister,
    responses={201: UserPublic},
    errors=[403, 409],
)
async def register(request: Request) -> JSONResponse:
    if not settings(request).USERS_OPEN_REGISTRATION:
        raise AppError("Open registration is disabled on this server; ask an administrator for an account", 403)
    body = await json_body(request, UserRegister)
    return JSONResponse(await in_db(request, lambda session: _create(session, body)), status_code=201)


@operation("The logged-in user", tags=["users"], responses={200: UserPublic})
async def me(request: Request) -> JSONResponse:
    return JSONResponse(UserPublic.of(actor(request)))


@operation(
    "Change one's own e-mail or name", tags=["users"], body=UserUpdateMe, responses={200: UserPublic}, errors=[409]
)
async def update_me(request: Request) -> JSONResponse:
    user_id = actor_id(request)
    body = await json_body(request, UserUpdateMe)
    return JSONResponse(await in_db(request, lambda session: _update(session, user_id, changes(body))))


def _fresh_credentials(request: Request, user: User) -> JSONResponse:
    """After logging a user out everywhere, keep this client logged in with new tokens (and cookie)."""
    response = JSONResponse(refresh.issue_pair(settings=settings(request), user=user))
    if request.cookies.get(SESSION_COOKIE):
        set_session_cookie(response, request, user)
    return response


@operation(
    "Change one's password (other sessions are logged out)",
    tags=["users"],
    body=UpdatePassword,
    responses={200: TokenPair},
    errors=[400],
)
async def update_my_password(request: Request) -> JSONResponse:
    """Change the password: every other session and token is logged out; this one gets new tokens."""
    body = await json_body(request, UpdatePassword)
    user_id = actor_id(request)

    def change(session: Session) -> User:
        user = users.get_user(session=session, user_id=user_id)
        users.change_password(
            session=session, user=user, current_password=body.current_password, new_password=body.new_password
        )
        return user

    return _fresh_credentials(request, await in_db(request, change))


@operation("Log out everywhere; this client gets new tokens", tags=["users"], responses={200: TokenPair})
async def logout_all(request: Request) -> JSONResponse:
    """Log out everywhere: every token and browser session issued before stops working."""
    user_id = actor_id(request)

    def revoke(session: Session) -> User:
        user = users.get_user(session=session, user_id=user_id)
        users.revoke_all_tokens(session=session, user=user)
        return user

    return _fresh_credentials(request, await in_db(request, revoke))


@operation("List users", tags=["users"], query=Page, responses={200: UserPage}, errors=[403])
async def list_users(request: Request) -> JSONResponse:
    superuser(request)
    page = query_params(request, Page)

    def work(session: Session) -> dict[str, Any]:
        items, total = users.list_users(session=session, limit=page.limit, offset=page.offset)
        return {"items": [UserPublic.of(user) for user in items], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))


@operation("Create a user", tags=["users"], body=UserCreate, responses={201: UserPublic}, errors=[403, 409])
async def create_user(request: Request) -> JSONResponse:
    superuser(request)
    body = await json_body(request, UserCreate)
    return JSONResponse(
        await in_db(
            request, lambda session: _create(session, body, is_superuser=body.is_superuser, is_active=body.is_active)
        ),
        status_code=201,
    )


@operation("A user (a regular user may read only itself)", tags=["users"], responses={200: UserPublic}, errors=[403])
async def get_user(request: Request) -> JSONResponse:
    """A superuser sees anyone; a regular user only itself."""
    user_id: int = request.path_params["id"]
    if actor(request).id != user_id:
        superuser(request)
    return JSONResponse(
        await in_db(
            request, lambda session: UserPublic.of(users.get_user(session=session, user_id=user_id)), readonly=True
        )
    )


@operation("Change a user", tags=["users"], body=UserUpdate, responses={200: UserPublic}, errors=[403, 409])
async def update_user(request: Request) -> JSONResponse:
    superuser(request)
    body = await json_body(request, UserUpdate)
    user_id: int = request.path_params["id"]
    return JSONResponse(await in_db(request, lambda session: _update(session, user_id, changes(body))))


@operation("Delete a user", tags=["users"], responses={200: Message}, errors=[403, 409])
async def delete_user(request: Request) -> JSONResponse:
    superuser(request)
    user_id: int = request.path_params["id"]
    await in_db(
        request,
        lambda session: users.delete_user(session=session, user=users.get_user(session=session, user_id=user_id)),
    )
    return JSONResponse({"message": "User deleted"})
