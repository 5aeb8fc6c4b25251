"""Log in: `/api/v1/login/access-token` (OAuth2 password form or JSON) and `/login/test-token`."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import db
from vcore_app.auth.guards import current_user
from vcore_app.auth.tokens import create_token
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.users import authenticate
from vcore_app.web.schemas import UserPublic
from vcore_app.web.validation import form_or_json


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


def issue_tokens(request: Request, user: User) -> dict[str, str]:
    settings = request.app.state.settings
    access, _ = create_token(settings=settings, kind="access", user_id=user.id, token_version=user.token_version)
    refresh, _ = create_token(settings=settings, kind="refresh", user_id=user.id, token_version=user.token_version)
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer"}


def _authenticate(request: Request, form: LoginForm) -> User | None:
    with db.session(request.app.state.runtime.engine) as session:
        return authenticate(session=session, username=form.username, password=form.password)


async def access_token(request: Request) -> JSONResponse:
    form = await form_or_json(request, LoginForm)
    user = await run_in_threadpool(_authenticate, request, form)  # argon2 takes ~0.1 s: off the loop
    if user is None:
        raise AppError("Incorrect username or password", 401, headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse(issue_tokens(request, user))


async def test_token(request: Request) -> JSONResponse:
    return JSONResponse(UserPublic.of(current_user(request)))
