"""Jinja2 templates from assets/templates: autoescaped, with the app's name, `csrf_token(request)`,
and the one set of time filters every page uses.

Times are stored in UTC. Pages show them with `when` in the TIMEZONE setting (or a scheduler's own
zone), always with the zone's name, so nobody guesses: `2026-11-27 14:03:05 CET`. `iso` is the
machine-readable UTC form for `<time datetime>` and the data attributes scripts read; `duration`
is the time a job ran (or has been running), as jobs.js shows it too.

A page's templates live in the folder named after its module: web/pages/jobs.py renders
jobs/*.html, web/pages/users.py users/*.html. Shared pieces are in base/, the error page in errors/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from vcore_app import __version__
from vcore_app.paths import assets_dir
from vcore_app.settings import Settings
from vcore_app.web import flash
from vcore_app.web.csrf import csrf_token


def make_templates(settings: Settings) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(assets_dir() / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        project_name=settings.PROJECT_NAME,
        project_description=settings.PROJECT_DESCRIPTION,
        version=__version__,
        csrf_token=csrf_token,
    )
    env.filters.update(when=partial(when, default_zone=settings.TIMEZONE), iso=iso, duration=duration)
    return Jinja2Templates(env=env)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def when(
    moment: datetime | None, zone: str | None = None, *, default_zone: str = "UTC", format: str = "%Y-%m-%d %H:%M:%S"
) -> str:
    """`2026-03-01 13:00:00 CET`: a stored UTC time in `zone` (the TIMEZONE setting by default),
    with the zone's name; "—" for no time."""
    if moment is None:
        return "—"
    return _aware(moment).astimezone(ZoneInfo(zone or default_zone)).strftime(f"{format} %Z")


def iso(moment: datetime | None) -> str:
    """`2026-03-01T12:00:00+00:00`: UTC with its offset, for machines (no browser guesses the zone)."""
    return _aware(moment).isoformat() if moment is not None else ""


def duration(started: datetime | float | None, finished: datetime | None = None) -> str:
    """`4.2 s`, `3 min 05 s`, `2 h 07 min`, `3 d 04 h`: seconds, or the time from `started` to `finished` (or
    now, while it runs); "" when it never started. jobs.js formats a running job the same way."""
    if started is None:
        return ""
    if isinstance(started, datetime):
        seconds = ((_aware(finished) if finished else datetime.now(UTC)) - _aware(started)).total_seconds()
    else:
        seconds = float(started)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 86400)} d {int(seconds % 86400 // 3600):02d} h"


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    principal = request.scope.get("user")
    user = principal.user if principal is not None and principal.is_authenticated else None
    context = context or {}
    flashes = [*flash.pending(request), *context.get("flashes", [])]
    response = templates.TemplateResponse(
        request, name, {"user": user, **context, "flashes": flashes}, status_code=status
    )
    if flash.COOKIE in request.cookies and not request.headers.get(flash.FRAGMENT_HEADER):
        flash.clear(response)  # shown now: not again on the next page
    return response
