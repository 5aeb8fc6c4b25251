"""Jinja2 templates from assets/templates: autoescaped, with the app's name and `csrf_token(request)`."""

from __future__ import annotations

from typing import Any

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
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    principal = request.scope.get("user")
    user = principal.user if principal is not None and principal.is_authenticated else None
    flashes = flash.pending(request)
    response = templates.TemplateResponse(request, name, {"user": user, "flashes": flashes, **(context or {})},
                                          status_code=status)
    if flashes:
        flash.clear(response)  # shown once
    return response
