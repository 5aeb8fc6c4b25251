"""One app exception and one handler that answers JSON `{"detail": ...}` or an HTML page."""

from __future__ import annotations

from typing import Any

from loguru import logger
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response


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


def error_response(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    from html import escape

    body = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(str(detail))}</p>"
    return HTMLResponse(body, status_code=status, headers=headers)


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
