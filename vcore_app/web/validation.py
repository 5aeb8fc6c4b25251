"""Request bodies into pydantic models: 422 naming the field, 413 for a body over the limit."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from vcore_app.errors import AppError, FieldError, from_validation, invalid_fields

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 1_000_000


def validate(model: type[M], data: Any, prefix: tuple[str, ...] = ("body",)) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, prefix) from None


async def read_body(request: Request, limit: int = MAX_JSON_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise AppError(f"Request body too large (limit {limit} bytes)", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise AppError(f"Request body too large (limit {limit} bytes)", 413)
    return bytes(body)


async def json_body_raw(request: Request) -> dict[str, Any]:
    """The JSON object of the body (size-limited); 422 when it is not a JSON object."""
    raw = await read_body(request)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise invalid_fields([FieldError(("body",), "Body must be a JSON object", "json_invalid")])
    return data


async def json_body(request: Request, model: type[M]) -> M:
    return validate(model, await json_body_raw(request))


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body as a dict (size-limited like JSON; the last value of a repeated key wins)."""
    raw = await read_body(request)
    return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))


async def form_or_json(request: Request, model: type[M]) -> M:
    """Accept an HTML/OAuth2 urlencoded form or a JSON body for the same model."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return validate(model, await read_form(request))
    return await json_body(request, model)


def query_params(request: Request, model: type[M]) -> M:
    return validate(model, dict(request.query_params), prefix=("query",))
