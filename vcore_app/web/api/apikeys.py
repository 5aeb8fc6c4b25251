"""A user's own API keys: `GET/POST /users/me/api-keys`, `DELETE /users/me/api-keys/{id}`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.auth import apikeys
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db
from vcore_app.web.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyPublic, Message
from vcore_app.web.validation import json_body


@operation("One's API keys", tags=["api keys"], responses={200: ApiKeyList})
async def list_keys(request: Request) -> JSONResponse:
    user = actor(request)
    rows = await in_db(request, lambda session: apikeys.list_api_keys(session=session, user=user), readonly=True)
    return JSONResponse({"items": [ApiKeyPublic.of(row) for row in rows]})


@operation("Create an API key (shown once)", tags=["api keys"], body=ApiKeyCreate, responses={201: ApiKeyCreated})
async def create_key(request: Request) -> JSONResponse:
    """The key is in this answer and nowhere else: it is stored only as a hash."""
    user = actor(request)
    body = await json_body(request, ApiKeyCreate)

    def create(session: Session) -> dict[str, Any]:
        row, key = apikeys.create_api_key(session=session, user=user, name=body.name, expires_at=body.expires_at)
        return {**ApiKeyPublic.of(row), "key": key}

    return JSONResponse(await in_db(request, create), status_code=201)


@operation("Revoke an API key", tags=["api keys"], responses={200: Message})
async def delete_key(request: Request) -> JSONResponse:
    user, key_id = actor(request), request.path_params["id"]
    await in_db(request, lambda session: apikeys.delete_api_key(session=session, user=user, key_id=key_id))
    return JSONResponse({"message": "API key deleted"})
