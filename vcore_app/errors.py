"""One app exception and one handler that answers JSON `{"detail": ...}` or an HTML page."""

from __future__ import annotations

from typing import Any

from loguru import logger
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class AppError(Exception):
    """A failure the user can act on: a message and the HTTP status that fits it."""

    def __init__(self, message: Any, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or request.url.path == "/healthz" or "text/html" not in accept


_TITLES = {400: "Bad request", 401: "Not logged in", 403: "Forbidden", 404: "Page not found",
           405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Invalid input",
           429: "Too many requests", 500: "Something went wrong"}


def error_response(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    from vcore_app.web.templating import render

    context = {"status": status, "title": _TITLES.get(status, "Error"),
               "detail": detail if isinstance(detail, str) else ""}
    response = render(request, "errors/error.html", context, status=status)
    response.headers.update(headers or {})
    return response


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(request, exc.status, exc.message, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, exc.detail, exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    logger.opt(exception=exc).error("unhandled error on {} {}", request.method, request.url.path)
    return error_response(request, 500, "Internal server error")


EXCEPTION_HANDLERS = {
    AppError: handle_app_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}


def invalid(field: str, message: str, location: str = "body") -> AppError:
    """A 422 naming one field, shaped like a validation error: {"detail": [{"loc": [...], "msg": ...}]}."""
    return AppError([{"loc": [location, field], "msg": message, "type": "value_error"}], 422)
