"""Operator pages (superusers): `/backups` with its button, `/audit` with filters; the jobs page's
"delete selected" and the dashboard's "run housekeeping now" buttons."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from vcore_app import audit, backups, housekeeping
from vcore_app.errors import AppError
from vcore_app.web import flash
from vcore_app.web.api.backups import take_backup
from vcore_app.web.api.job_cleanup import delete_in_batches
from vcore_app.web.api.ops import AuditQuery
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.pages.login import safe_next
from vcore_app.web.templating import render
from vcore_app.web.validation import read_body, validate

MAX_SELECTED = 500


async def backups_page(request: Request) -> Response:
    superuser(request)
    return render(
        request,
        "ops/backups.html",
        {"nav": "Backups", "archives": backups.list_archives(settings(request)), "keep": settings(request).BACKUP_KEEP},
    )


async def backup_now(request: Request) -> Response:
    try:
        archive = await take_backup(request)
    except AppError as exc:
        if exc.status in (401, 403):
            raise
        return flash.redirect(request, "/backups", str(exc.message), "danger")
    return flash.redirect(request, "/backups", f"Backup {archive.name} written ({archive.size:,} bytes).")


async def audit_page(request: Request) -> Response:
    superuser(request)
    raw = {key: value for key, value in request.query_params.items() if value != ""}
    query = validate(AuditQuery, raw, prefix=("query",))
    rows, total = await in_db(
        request,
        lambda session: audit.list_events(session=session, where=query.where(), limit=query.limit, offset=query.offset),
        readonly=True,
    )
    base = {key: value for key, value in raw.items() if key != "offset"}
    older = urlencode({**base, "offset": query.offset + query.limit}) if query.offset + query.limit < total else None
    newer = urlencode({**base, "offset": max(query.offset - query.limit, 0)}) if query.offset else None
    return render(
        request,
        "ops/audit.html",
        {"nav": "Audit", "rows": rows, "total": total, "query": query, "older": older, "newer": newer},
    )


async def delete_selected(request: Request) -> Response:
    """The jobs page's selection: the checked finished jobs (running or waiting ones are left alone)."""
    user = actor(request)
    fields = parse_qsl((await read_body(request)).decode("utf-8", errors="replace"))
    back = safe_next(dict(fields).get("next") or "/jobs")
    ids = sorted({int(value) for key, value in fields if key == "ids" and value.isdigit()})
    if not ids:
        return flash.redirect(request, back, "No jobs selected.", "warning")
    if len(ids) > MAX_SELECTED:
        return flash.redirect(request, back, f"Select at most {MAX_SELECTED} jobs at once.", "danger")
    filters = housekeeping.bulk_filters(actor=user, ids=ids)
    deleted = await delete_in_batches(request, user, filters, f"selected: {len(ids)}")
    skipped = len(ids) - deleted
    message = f"{deleted} jobs deleted." + (
        f" {skipped} not deleted: still active (kill them first)." if skipped else ""
    )
    return flash.redirect(request, back, message, "success" if not skipped else "warning")


async def run_housekeeping(request: Request) -> Response:
    superuser(request)
    runtime(request).housekeeping.wake()
    return flash.redirect(request, "/", "Housekeeping started; reload in a moment to see what it removed.")
