"""Log in and out: `/login/access-token` (OAuth2 password form or JSON), `/login/refresh-token`,
`/login/test-token`, `/logout`."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import db
from vcore_app.auth import refresh
from vcore_app.auth.guards import current_user
from vcore_app.auth.login import check_login
from vcore_app.auth.session import end_session
from vcore_app.auth.tokens import InvalidToken, decode_token
from vcore_app.errors import AppError
from vcore_app.web.schemas import LogoutRequest, RefreshRequest, UserPublic
from vcore_app.web.validation import form_or_json, json_body


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


async def access_token(request: Request) -> JSONResponse:
    form = await form_or_json(request, LoginForm)
    user = await check_login(request, form.username, form.password)
    return JSONResponse(refresh.issue_pair(settings=request.app.state.settings, user=user))


def _rotate(request: Request, token: str) -> dict[str, str] | None:
    with db.session(request.app.state.runtime.engine) as session:
        return refresh.rotate(session=session, settings=request.app.state.settings, refresh_token=token)


async def refresh_token(request: Request) -> JSONResponse:
    body = await json_body(request, RefreshRequest)
    pair = await run_in_threadpool(_rotate, request, body.refresh_token)
    if pair is None:
        raise AppError("Invalid or used refresh token; log in again", 401, headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse(pair)


async def test_token(request: Request) -> JSONResponse:
    return JSONResponse(UserPublic.of(current_user(request)))


def _revoke_refresh(request: Request, token: str, user_id: int) -> None:
    try:
        claims = decode_token(token, settings=request.app.state.settings, kind="refresh")
    except InvalidToken:
        return  # nothing to revoke: it is no good anyway
    if int(claims["sub"]) == user_id:  # one cannot log someone else out with their token
        with db.session(request.app.state.runtime.engine) as session:
            refresh.revoke(session=session, claims=claims, kind="refresh")


async def logout(request: Request) -> JSONResponse:
    """Revoke the given refresh token and the browser session; the access token simply expires."""
    user = current_user(request)
    body = await json_body(request, LogoutRequest)
    if body.refresh_token:
        await run_in_threadpool(_revoke_refresh, request, body.refresh_token, user.id)
    response = JSONResponse({"message": "Logged out"})
    await run_in_threadpool(end_session, request, response)
    return response
