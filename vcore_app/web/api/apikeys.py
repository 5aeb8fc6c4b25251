"""A user's own API keys: `GET/POST /users/me/api-keys`, `DELETE /users/me/api-keys/{id}`."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app import db
from vcore_app.auth import apikeys
from vcore_app.auth.guards import current_user
from vcore_app.web.schemas import ApiKeyCreate, ApiKeyPublic
from vcore_app.web.validation import json_body


def _list(request: Request) -> list[dict[str, Any]]:
    with db.session(request.app.state.runtime.engine, readonly=True) as session:
        return [ApiKeyPublic.of(row) for row in apikeys.list_api_keys(session=session, user=current_user(request))]


async def list_keys(request: Request) -> JSONResponse:
    return JSONResponse({"items": await run_in_threadpool(_list, request)})


def _create(request: Request, body: ApiKeyCreate) -> dict[str, Any]:
    with db.session(request.app.state.runtime.engine) as session:
        row, key = apikeys.create_api_key(session=session, user=current_user(request), name=body.name,
                                          expires_at=body.expires_at)
    return {**ApiKeyPublic.of(row), "key": key}


async def create_key(request: Request) -> JSONResponse:
    """The key is in this answer and nowhere else: it is stored only as a hash."""
    body = await json_body(request, ApiKeyCreate)
    return JSONResponse(await run_in_threadpool(_create, request, body), status_code=201)


def _delete(request: Request, key_id: int) -> None:
    with db.session(request.app.state.runtime.engine) as session:
        apikeys.delete_api_key(session=session, user=current_user(request), key_id=key_id)


async def delete_key(request: Request) -> JSONResponse:
    await run_in_threadpool(_delete, request, request.path_params["id"])
    return JSONResponse({"message": "API key deleted"})
