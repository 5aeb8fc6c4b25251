"""`/api/v1/backups` (superusers): list the archives, take one now, download one."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse

from vcore_app import backups
from vcore_app.errors import AppError
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import runtime, settings, superuser
from vcore_app.web.schemas import BackupOut, BackupPage


def archive_out(archive: backups.Archive) -> dict[str, Any]:
    return {
        "name": archive.name,
        "bytes": archive.size,
        "created_at": archive.created_at.isoformat(),
        "download": f"/api/v1/backups/{archive.name}",
    }


async def take_backup(request: Request) -> backups.Archive:
    """A backup now, attributed to the acting superuser (the pages' button calls this too).

    File work (VACUUM INTO, gzip) on a worker thread; it holds no session of ours."""
    user = superuser(request)
    active = runtime(request)
    try:
        path = await to_thread.run_sync(
            lambda: backups.create_backup(settings=active.settings, engine=active.engine, actor=user.username)
        )
    except backups.BackupError as exc:
        raise AppError(str(exc), 409) from None
    return backups.describe(path)


@operation("The backup archives (superusers)", tags=["operations"], responses={200: BackupPage}, errors=[403])
async def list_backups(request: Request) -> JSONResponse:
    superuser(request)
    archives = await to_thread.run_sync(backups.list_archives, settings(request))
    return JSONResponse(
        {"items": [archive_out(a) for a in archives], "total": len(archives), "keep": settings(request).BACKUP_KEEP}
    )


@operation(
    "Back up the database, secrets and plugins now (superusers)",
    tags=["operations"],
    responses={201: BackupOut},
    errors=[403, 409],
    description="A consistent live copy (VACUUM INTO) in a timestamped archive under DATA_DIR/backups; "
    "the oldest archives past BACKUP_KEEP are removed.",
)
async def create_backup(request: Request) -> JSONResponse:
    return JSONResponse(archive_out(await take_backup(request)), status_code=201)


@operation("Download a backup archive (superusers)", tags=["operations"], responses={200: "gzip"}, errors=[403])
async def download_backup(request: Request) -> FileResponse:
    superuser(request)
    try:
        path = backups.archive_path(settings(request), request.path_params["name"])
    except backups.BackupError as exc:
        raise AppError(str(exc), 404) from None
    return FileResponse(path, media_type="application/gzip", filename=path.name, headers={"Cache-Control": "no-store"})
