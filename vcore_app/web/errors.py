"""How errors are answered: JSON `{"detail": ...}` for the API (and clients that do not ask for
HTML), an error page for browsers; and field errors shown next to the fields of a form.

The wire format of a 422 is FastAPI's: `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`;
any other failure is `{"detail": "one sentence"}`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from loguru import logger
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app.disk import is_disk_full
from vcore_app.errors import AppError, FieldError
from vcore_app.web.deps import runtime
from vcore_app.web.templating import render

_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    507: "The data disk is full",
}


def json_detail(exc: AppError) -> Any:
    """What `detail` holds for `exc`: the list of field errors of a 422, else its sentence."""
    if exc.status == 422 and exc.fields:
        return [error.as_json() for error in exc.fields]
    return exc.message


def field_messages(fields: Sequence[FieldError], *, under: Sequence[str] = (), default: str = "") -> dict[str, str]:
    """Field errors -> {form field: message}, for a page to show each next to its field.

    The location's first part (body, query) is dropped, then `under` (the part of the document a
    form edits, e.g. a script's `input`). The next part names the field; a deeper path goes in
    front of the message (`input`: "path: Field required"). An error naming no field is filed
    under `default`. The first error of a field wins.
    """
    found: dict[str, str] = {}
    for error in fields:
        loc = [str(part) for part in error.loc[1:]]
        if under and loc[: len(under)] == list(under):
            loc = loc[len(under) :]
        name, inner = (loc[0], ".".join(loc[1:])) if loc else (default, "")
        found.setdefault(name, f"{inner}: {error.for_people}" if inner else error.for_people)
    return found


def form_errors(exc: AppError) -> tuple[dict[str, str], str | None]:
    """Errors next to the fields, or one message for the whole form (a rule such as "the last
    active superuser cannot be demoted", a 409)."""
    fields = field_messages(exc.fields)
    return fields, None if fields else exc.message


def error_response(request: Request, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    context = {
        "status": status,
        "title": _TITLES.get(status, "Error"),
        "detail": detail if isinstance(detail, str) else "",
    }
    response = render(request, "errors/error.html", context, status=status)
    response.headers.update(headers or {})
    return response


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or request.url.path == "/healthz" or "text/html" not in accept


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(request, exc.status, json_detail(exc), exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, exc.detail, exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    logger.opt(exception=exc).error("unhandled error on {} {}", request.method, request.url.path)
    return error_response(request, 500, "Internal server error")


async def handle_storage_error(request: Request, exc: Exception) -> Response:
    """A write that failed for want of space is a 507 naming the free space (the data disk's watch
    logs the episode once, not once per request); any other storage error is a 500 as before.
    Registered for these classes because Starlette's catch-all handler re-raises after answering."""
    if is_disk_full(exc):
        return await handle_app_error(request, runtime(request).disk.error())
    return await handle_unexpected(request, exc)


EXCEPTION_HANDLERS = {
    AppError: handle_app_error,
    HTTPException: handle_http_exception,
    OSError: handle_storage_error,
    sqlite3.Error: handle_storage_error,
    DBAPIError: handle_storage_error,
    Exception: handle_unexpected,
}
