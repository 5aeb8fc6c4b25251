"""Log in and out: `/login/access-token` (OAuth2 password form or JSON), `/login/refresh-token`,
`/login/test-token`, `/logout`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.auth import refresh
from vcore_app.auth.tokens import InvalidToken, decode_token
from vcore_app.errors import AppError
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, settings
from vcore_app.web.login import check_login
from vcore_app.web.schemas import LogoutRequest, Message, RefreshRequest, TokenPair, UserPublic
from vcore_app.web.session import end_session
from vcore_app.web.validation import form_or_json, json_body


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


@operation(
    "Log in: an access and a refresh token",
    tags=["login"],
    body=LoginForm,
    form=True,
    responses={200: TokenPair},
    errors=[400, 401, 429],
)
async def access_token(request: Request) -> JSONResponse:
    form = await form_or_json(request, LoginForm)
    user = await check_login(request, form.username, form.password)
    return JSONResponse(refresh.issue_pair(settings=settings(request), user=user))


@operation(
    "Trade a refresh token for a new pair (the old one stops working)",
    tags=["login"],
    body=RefreshRequest,
    responses={200: TokenPair},
    errors=[401],
)
async def refresh_token(request: Request) -> JSONResponse:
    body, config = await json_body(request, RefreshRequest), settings(request)
    pair = await in_db(
        request, lambda session: refresh.rotate(session=session, settings=config, refresh_token=body.refresh_token)
    )
    if pair is None:
        raise AppError("Invalid or used refresh token; log in again", 401, headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse(pair)


@operation("Who the credentials belong to", tags=["login"], responses={200: UserPublic})
async def test_token(request: Request) -> JSONResponse:
    return JSONResponse(UserPublic.of(actor(request)))


def _revoke_refresh(session: Session, claims: dict[str, Any]) -> None:
    refresh.revoke(session=session, claims=claims, kind="refresh")


@operation(
    "Log out: revoke a refresh token and the browser session",
    tags=["login"],
    body=LogoutRequest,
    responses={200: Message},
)
async def logout(request: Request) -> JSONResponse:
    """Revoke the given refresh token and the browser session; the access token simply expires."""
    user = actor(request)
    body = await json_body(request, LogoutRequest)
    if body.refresh_token:
        try:
            claims = decode_token(body.refresh_token, settings=settings(request), kind="refresh")
        except InvalidToken:
            claims = None  # nothing to revoke: it is no good anyway
        if claims is not None and int(claims["sub"]) == user.id:  # nobody logs someone else out with their token
            await in_db(request, lambda session: _revoke_refresh(session, claims))
    response = JSONResponse({"message": "Logged out"})
    await end_session(request, response)
    return response
