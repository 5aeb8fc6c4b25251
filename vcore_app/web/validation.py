"""Request bodies into pydantic models: 422 naming the field, 413 for a body over the limit.

An API handler's `@operation` (web/apidoc.py) names the models it reads; reading another one is a
programming error caught here, so the OpenAPI document always shows what a handler validates.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from vcore_app.errors import AppError, FieldError, from_validation, invalid_fields
from vcore_app.web.apidoc import declared

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 1_000_000
# Deeper than any job spec, scheduler or user body needs; a deeper body is refused before anything
# walks it (Python's json, pydantic and SQLAlchemy all recurse).
MAX_JSON_DEPTH = 32


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
    if _nesting(raw) > MAX_JSON_DEPTH:
        raise invalid_fields([FieldError(("body",), f"Body nests deeper than {MAX_JSON_DEPTH} levels", "json_invalid")])
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise invalid_fields([FieldError(("body",), "Body must be a JSON object", "json_invalid")])
    return data


def _nesting(raw: bytes) -> int:
    """How deep brackets nest, outside strings: checked in one pass before parsing."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot nest too deep: skip the walk (nearly every body)
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _check_declared(request: Request, kind: str, model: type[BaseModel]) -> None:
    operation = declared(request.scope.get("endpoint"))
    if operation is not None and getattr(operation, kind) is not model:
        raise RuntimeError(
            f"{request.url.path} reads a {kind} of {model.__name__} but declares {getattr(operation, kind)}"
        )


async def json_body(request: Request, model: type[M]) -> M:
    _check_declared(request, "body", model)
    return validate(model, await json_body_raw(request))


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body as a dict (size-limited like JSON; the last value of a repeated key wins)."""
    raw = await read_body(request)
    return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))


async def form_or_json(request: Request, model: type[M]) -> M:
    """Accept an HTML/OAuth2 urlencoded form or a JSON body for the same model."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        _check_declared(request, "body", model)
        return validate(model, await read_form(request))
    return await json_body(request, model)


def query_params(request: Request, model: type[M]) -> M:
    _check_declared(request, "query", model)
    return validate(model, dict(request.query_params), prefix=("query",))
