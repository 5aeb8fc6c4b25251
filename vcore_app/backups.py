"""Live backups and offline restore of a data folder.

A backup is one archive, `DATA_DIR/backups/vcore-backup-<UTC time>.tar.gz` (mode 0600), holding:
- `vcore.sqlite3`: a consistent copy of the app database made with `VACUUM INTO` while the app runs.
  It reads one snapshot, so every transaction committed before it began is in, none half; writers
  go on meanwhile (WAL). Never a file copy: a copy of a WAL database can miss or tear commits.
- `secrets.env` and `plugins/`;
- `manifest.json`: app version, schema revision, time.
The queues' files are not in it: the ledger is the truth (DESIGN.md section 3), and at the first
start after a restore `jobs.service.recover` enqueues every `queued` job again and settles every
`running` one like after a crash (failed, or queued again when attempts remain).

Retention keeps the newest BACKUP_KEEP archives. `vcore-app backup`, `POST /api/v1/backups`, the
button on /backups and the built-in script `backup` (scripts/backup.py) all call `create_backup`.

`restore` runs only while the app is stopped (it takes the data folder's instance lock, so the app
cannot start meanwhile either), checks the archive (safe member names, `PRAGMA integrity_check`,
a schema revision this app knows), moves the current data aside into
`DATA_DIR/backups/before-restore-<time>/`, puts the archive's files in place, and migrates.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from vcore_app import __version__, audit, db
from vcore_app.instance import AlreadyRunning, InstanceLock
from vcore_app.settings import SECRETS_FILE, Settings

DB_MEMBER = "vcore.sqlite3"
MANIFEST = "manifest.json"
PLUGINS = "plugins"
_NAME = re.compile(r"^vcore-backup-\d{8}T\d{6}(\d{6})?Z\.tar\.gz$")


class BackupError(Exception):
    """One line for the user: what is wrong with the archive or why it cannot run now."""


@dataclass(frozen=True)
class Archive:
    name: str
    size: int
    created_at: datetime


def database_file(settings: Settings) -> Path:
    """The SQLite file these backups copy; a PostgreSQL ledger has its own tools (issue 20)."""
    if db.is_postgresql(settings.DB_URL):
        raise BackupError(
            "DB_URL is a PostgreSQL database: back it up with pg_dump (vcore-app backup copies SQLite databases only)"
        )
    if not settings.DB_URL.startswith("sqlite:///"):
        raise BackupError(f"DB_URL='{settings.DB_URL.split('://')[0]}://...': backups cover SQLite databases only")
    return Path(settings.DB_URL.removeprefix("sqlite:///"))


def list_archives(settings: Settings) -> list[Archive]:
    """The archives in DATA_DIR/backups, newest first."""
    folder = settings.backups_dir
    found = [
        describe(path)
        for path in (folder.glob("vcore-backup-*.tar.gz") if folder.is_dir() else [])
        if _NAME.match(path.name)
    ]
    return sorted(found, key=lambda archive: archive.name, reverse=True)


def describe(path: Path) -> Archive:
    info = path.stat()
    return Archive(name=path.name, size=info.st_size, created_at=datetime.fromtimestamp(info.st_mtime, UTC))


def archive_path(settings: Settings, name: str) -> Path:
    """The path of an archive named by a request: only a name of ours, only in the backups folder."""
    if not _NAME.match(name) or not (settings.backups_dir / name).is_file():
        raise BackupError(f"no backup named '{name}'")
    return settings.backups_dir / name


def create_backup(*, settings: Settings, engine: Engine, actor: str | None = None, to: Path | None = None) -> Path:
    """Write an archive of the live data folder; return its path. Keeps the newest BACKUP_KEEP."""
    database = database_file(settings)
    folder = settings.backups_dir
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    target = to or folder / f"vcore-backup-{now.strftime('%Y%m%dT%H%M%S%fZ')}.tar.gz"
    with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as work:
        copy = Path(work) / DB_MEMBER
        source = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            source.execute("VACUUM INTO ?", (str(copy),))
        finally:
            source.close()
        revision = schema_revision(copy)
        manifest = {"app_version": __version__, "schema_revision": revision, "created_at": now.isoformat()}
        partial = target.with_name(f".{target.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(copy, arcname=DB_MEMBER)
            secrets_file = settings.DATA_DIR / SECRETS_FILE
            if secrets_file.is_file():
                tar.add(secrets_file, arcname=SECRETS_FILE)
            if settings.plugins_dir.is_dir():
                tar.add(settings.plugins_dir, arcname=PLUGINS, filter=_plain_files)
            data = json.dumps(manifest, indent=2).encode()
            entry = tarfile.TarInfo(MANIFEST)
            entry.size, entry.mtime, entry.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(entry, io.BytesIO(data))
        os.replace(partial, target)
    os.chmod(target, 0o600)
    if to is None:
        prune(settings)
    with db.session(engine) as session:
        audit.record(session, action="backup.create", target=target.name, actor=actor)
    return target


def _plain_files(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Plugins: files and folders only (no links, devices; no __pycache__), owned by nobody in particular."""
    if not (info.isfile() or info.isdir()) or "__pycache__" in info.name:
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def prune(settings: Settings) -> list[str]:
    """Remove all but the newest BACKUP_KEEP archives; return the names removed."""
    removed = []
    for archive in list_archives(settings)[settings.BACKUP_KEEP :]:
        (settings.backups_dir / archive.name).unlink(missing_ok=True)
        removed.append(archive.name)
    return removed


def schema_revision(database: Path) -> str | None:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return row[0] if row else None


def known_revisions(settings: Settings) -> set[str]:
    script = ScriptDirectory.from_config(db.alembic_config(settings.DB_URL))
    return {revision.revision for revision in script.walk_revisions()}


# -- restore ---------------------------------------------------------------------------------------


def restore(*, settings: Settings, archive: Path) -> Path:
    """Restore `archive` into the (stopped) data folder; return where the previous data went."""
    if not archive.is_file():
        raise BackupError(f"'{archive}': no such file")
    try:
        lock = InstanceLock.acquire(settings.DATA_DIR)
    except AlreadyRunning as running:
        where = f" at {running.holder.url}" if running.holder.url else ""
        raise BackupError(
            f"vcore-app is running on {settings.DATA_DIR}{where} (pid {running.holder.pid}); stop it before restoring"
        ) from None
    try:
        return _restore_locked(settings, archive)
    finally:
        lock.release()


def _restore_locked(settings: Settings, archive: Path) -> Path:
    database = database_file(settings)
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".restore-") as work:
        staging = Path(work)
        _extract(archive, staging)
        restored_db = staging / DB_MEMBER
        if not restored_db.is_file():
            raise BackupError(f"'{archive.name}': not a vcore-app backup (no {DB_MEMBER} in it)")
        _check_database(settings, restored_db, archive.name)
        aside = _move_aside(settings, database)
        shutil.move(restored_db, database)
        os.chmod(database, 0o600)
        if (staging / SECRETS_FILE).is_file():
            shutil.move(staging / SECRETS_FILE, settings.DATA_DIR / SECRETS_FILE)
            os.chmod(settings.DATA_DIR / SECRETS_FILE, 0o600)
        if (staging / PLUGINS).is_dir():
            shutil.move(staging / PLUGINS, settings.plugins_dir)
        else:
            settings.plugins_dir.mkdir(exist_ok=True)
    db.migrate(settings.DB_URL)
    engine = db.engine_for(settings)
    try:
        with db.session(engine) as session:
            audit.record(
                session,
                action="backup.restore",
                target=f"{archive.name}; previous data in {aside.name}",
                actor=audit.CLI,
            )
    finally:
        engine.dispose()
    return aside


def _extract(archive: Path, staging: Path) -> None:
    """Only the members a backup has, as plain files under `staging` (no links, no `..`, no absolute paths)."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                allowed = parts and parts[0] in (DB_MEMBER, SECRETS_FILE, MANIFEST, PLUGINS)
                if (
                    not allowed
                    or ".." in parts
                    or member.name.startswith("/")
                    or not (member.isfile() or member.isdir())
                ):
                    raise BackupError(f"'{archive.name}': unexpected entry '{member.name}'; not restoring it")
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"'{archive.name}': not a readable backup archive ({exc})") from None


def _check_database(settings: Settings, restored: Path, name: str) -> None:
    connection = sqlite3.connect(f"file:{restored}?mode=ro", uri=True)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"'{name}': the database in it is damaged ({exc})") from None
    finally:
        connection.close()
    if result != [("ok",)]:
        raise BackupError(f"'{name}': the database in it fails integrity_check ({result[0][0]})")
    revision = schema_revision(restored)
    if revision is not None and revision not in known_revisions(settings):
        raise BackupError(
            f"'{name}': its schema (revision {revision}) is newer than this vcore-app {__version__}; "
            "restore it with a newer version"
        )


def _move_aside(settings: Settings, database: Path) -> Path:
    """The current database (with its WAL), queues, secrets and plugins -> backups/before-restore-<time>/."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = settings.backups_dir / f"before-restore-{stamp}"
    aside.mkdir(parents=True, mode=0o700)
    queues = [settings.HUEY_DEFAULT_SQLITE_PATH, settings.HUEY_RESERVED_SQLITE_PATH]
    for path in [database, *[queue for queue in queues if queue is not None]]:
        for suffix in ("", "-wal", "-shm"):
            current = Path(f"{path}{suffix}")
            if current.exists():
                shutil.move(current, aside / current.name)
    for path in (settings.DATA_DIR / SECRETS_FILE, settings.plugins_dir):
        if path.exists():
            shutil.move(path, aside / path.name)
    return aside
