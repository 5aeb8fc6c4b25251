"""Jinja2 templates from assets/templates: autoescaped, with the app's name and `csrf_token(request)`."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from vcore_app import __version__
from vcore_app.auth.csrf import csrf_token
from vcore_app.paths import assets_dir
from vcore_app.settings import Settings
from vcore_app.web import flash


def make_templates(settings: Settings) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(assets_dir() / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(project_name=settings.PROJECT_NAME, project_description=settings.PROJECT_DESCRIPTION,
                       version=__version__, csrf_token=csrf_token)
    env.filters["localtime"] = partial(localtime, default_zone=settings.TIMEZONE)
    return Jinja2Templates(env=env)


def localtime(value: datetime | None, zone: str | None = None, *, default_zone: str = "UTC") -> str:
    """`2026-03-01 13:00 CET`: a stored UTC time shown in a zone (the TIMEZONE setting by default)."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone or default_zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    principal = request.scope.get("user")
    user = principal.user if principal is not None and principal.is_authenticated else None
    context = context or {}
    flashes = [*flash.pending(request), *context.get("flashes", [])]
    response = templates.TemplateResponse(request, name, {"user": user, **context, "flashes": flashes},
                                          status_code=status)
    if flash.COOKIE in request.cookies and not request.headers.get(flash.FRAGMENT_HEADER):
        flash.clear(response)  # shown now: not again on the next page
    return response
