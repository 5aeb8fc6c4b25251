"""Jinja2 templates from assets/templates, with `csrf_token(request)` available to every form."""

from __future__ import annotations

from functools import cache

from starlette.templating import Jinja2Templates

from vcore_app.auth.csrf import csrf_token
from vcore_app.paths import assets_dir


@cache
def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=assets_dir() / "templates")
    found.env.globals["csrf_token"] = csrf_token
    return found
