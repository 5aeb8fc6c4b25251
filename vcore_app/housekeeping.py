"""Storage bounded by design: the one housekeeping task, at start and then daily.

It applies, in this order:
- JOB_RETENTION_DAYS: finished jobs (done, failed, cancelled) that finished longer ago are removed
  with their logs;
- JOB_RETENTION_MAX_ROWS: while more jobs than this exist, the oldest finished ones go (active jobs
  are never removed, so the table may stay above the cap while they wait);
- JOB_LOGS_MAX_TOTAL_MB: while the job logs take more, the logs of the oldest finished jobs go
  (the jobs stay, without a log); log files whose job no longer exists go too;
- AUDIT_RETENTION_DAYS: older audit rows.

Rows are removed in batches of BATCH in short write transactions with a pause between them, so the
API and the workers never wait long for the write lock (bench/housekeeping.py prints the p99 of
`GET /jobs` during a run). Then a WAL checkpoint (TRUNCATE) gives the WAL's space back, and VACUUM
runs only when it wins much (VACUUM_MIN_BYTES and a quarter of the file) and nothing runs. On
PostgreSQL both are skipped: its autovacuum gives space back, and its WAL is the server's business.

This replaces the job-log retention thread that jobs/logs.py had: one mechanism, one schedule.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import ColumnElement, Engine, delete, func
from sqlmodel import Session, col, select

from vcore_app import audit, db
from vcore_app.errors import invalid
from vcore_app.jobs.logs import log_path
from vcore_app.models import AuditEvent, Job, JobStatus, User, utcnow
from vcore_app.settings import Settings

BATCH = 500
PAUSE_SECONDS = 0.01  # between batches: lets waiting writers take the lock
VACUUM_MIN_BYTES = 64 * 1024 * 1024
CHECKPOINT_WAIT_MS = 1000
ORPHAN_LOG_GRACE_SECONDS = 3600  # a log without a job row, older than this, is left over from a crash
MIRROR_KEEP_SECONDS = 86400  # a mirror file (worker nodes) untouched this long goes
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
_MB = 1024 * 1024


@dataclass
class Run:
    """What one housekeeping run did."""

    started_at: datetime
    finished_at: datetime = field(default_factory=utcnow)
    jobs: int = 0
    logs: int = 0
    log_bytes: int = 0
    audit: int = 0
    checkpointed: bool = False
    vacuumed: bool = False

    def summary(self) -> str:
        parts = [f"{self.jobs} jobs", f"{self.logs} logs ({self.log_bytes / _MB:.1f} MB)", f"{self.audit} audit rows"]
        return "removed " + ", ".join(parts) + ("; vacuumed" if self.vacuumed else "")


@dataclass(frozen=True)
class Storage:
    """Disk used by what the app keeps, for the dashboard and GET /api/v1/housekeeping."""

    logs_bytes: int
    log_files: int
    databases: dict[str, int]
    oldest_job_at: datetime | None
    jobs: int


def finished_before(cutoff: datetime) -> list[ColumnElement[bool]]:
    """Jobs that finished before `cutoff` (finished_at is indexed for this)."""
    return [col(Job.status).in_(FINISHED), col(Job.finished_at).is_not(None), col(Job.finished_at) < cutoff]


def delete_job_batch(
    *, session: Session, filters: Sequence[ColumnElement[bool]], logs_dir: Path, limit: int = BATCH
) -> int:
    """Delete up to `limit` finished jobs matching `filters`, oldest first, and (after the commit)
    their logs. Returns how many; repeat until it returns less than `limit`."""
    found = session.exec(
        select(col(Job.id)).where(col(Job.status).in_(FINISHED), *filters).order_by(col(Job.id)).limit(limit)
    ).all()
    ids = [job_id for job_id in found if job_id is not None]
    if ids:
        session.execute(delete(Job).where(col(Job.id).in_(ids)), execution_options={"synchronize_session": False})
        db.on_commit(session, lambda: _unlink_logs(logs_dir, ids))
    return len(ids)


def _unlink_logs(logs_dir: Path, ids: list[int]) -> None:
    for job_id in ids:
        log_path(logs_dir, job_id).unlink(missing_ok=True)


def _prune_mirror(folder: Path, *, older_than: float) -> None:
    """Mirror files (worker nodes, issue 20) are copies of logs in the database, made again when read:
    one untouched for a day goes, whatever became of its job."""
    for job_id, _, mtime in scan_logs(folder):
        if mtime < older_than:
            log_path(folder, job_id).unlink(missing_ok=True)


def scan_logs(logs_dir: Path) -> list[tuple[int, int, float]]:
    """(job id, bytes, mtime) of every job log file."""
    found = []
    try:
        entries = list(os.scandir(logs_dir))
    except FileNotFoundError:
        return []
    for entry in entries:
        stem, _, ext = entry.name.partition(".")
        if ext != "log" or not stem.isdigit():
            continue
        try:
            info = entry.stat()
        except FileNotFoundError:
            continue
        found.append((int(stem), info.st_size, info.st_mtime))
    return found


class Housekeeping:
    """The housekeeping thread: runs at start, then every `interval` seconds, or when `wake()`d."""

    interval = 86400.0

    def __init__(
        self, *, engine: Engine, settings: Settings, idle: Callable[[], bool], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self._idle = idle
        self._clock = clock
        self.last: Run | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # one run at a time (the thread, a test, the API)
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._storage_cache: tuple[float, Storage] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def wake(self) -> None:
        """Run now (the dashboard's button, POST /api/v1/housekeeping)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("housekeeping failed; trying again at the next run")
            self._wake.wait(self.interval)
            self._wake.clear()

    # -- one run ----------------------------------------------------------------------------------

    def run_once(self) -> Run:
        with self._lock:
            run = Run(started_at=self._clock())
            settings = self.settings
            cutoff = run.started_at - timedelta(days=settings.JOB_RETENTION_DAYS)
            run.jobs += self._delete_jobs(finished_before(cutoff))
            if settings.JOB_RETENTION_MAX_ROWS:
                run.jobs += self._enforce_max_rows(settings.JOB_RETENTION_MAX_ROWS)
            run.logs, run.log_bytes = self._trim_logs(settings.JOB_LOGS_MAX_TOTAL_MB * _MB)
            _prune_mirror(settings.log_mirror_dir, older_than=time.time() - MIRROR_KEEP_SECONDS)
            audit_cutoff = run.started_at - timedelta(days=settings.AUDIT_RETENTION_DAYS)
            run.audit = self._delete_batches(lambda s: _audit_batch(s, audit_cutoff))
            run.vacuumed = self._vacuum_if_worth_it()
            run.finished_at = self._clock()
            with db.session(self.engine) as session:
                audit.record(session, action="housekeeping.run", target=run.summary(), actor=audit.SYSTEM)
            run.checkpointed = checkpoint(self.engine)  # last: the WAL is left empty
            self.last = run
            self._storage_cache = None
            if run.jobs or run.logs or run.audit:
                logger.info("housekeeping {}", run.summary())
            return run

    def _delete_batches(self, batch: Callable[[Session], int]) -> int:
        total = 0
        while not self._stop.is_set():
            with db.session(self.engine) as session:
                count = batch(session)
            total += count
            if count < BATCH:
                break
            time.sleep(PAUSE_SECONDS)
        return total

    def _delete_jobs(self, filters: Sequence[ColumnElement[bool]], limit: int | None = None) -> int:
        logs_dir = self.settings.job_logs_dir
        remaining = limit
        total = 0
        while remaining is None or remaining > 0:
            size = BATCH if remaining is None else min(BATCH, remaining)
            with db.session(self.engine) as session:
                count = delete_job_batch(session=session, filters=filters, logs_dir=logs_dir, limit=size)
            total += count
            if remaining is not None:
                remaining -= count
            if count < size or self._stop.is_set():
                break
            time.sleep(PAUSE_SECONDS)
        return total

    def _enforce_max_rows(self, max_rows: int) -> int:
        with db.session(self.engine, readonly=True) as session:
            excess = session.exec(select(func.count()).select_from(Job)).one() - max_rows
        return self._delete_jobs([], limit=excess) if excess > 0 else 0

    def _trim_logs(self, max_bytes: int) -> tuple[int, int]:
        """Orphan logs, then the oldest finished jobs' logs while the total is over `max_bytes`."""
        files = scan_logs(self.settings.job_logs_dir)
        if not files:
            return 0, 0
        with db.session(self.engine, readonly=True) as session:
            existing = set(session.exec(select(col(Job.id))).all())
            active = set(session.exec(select(col(Job.id)).where(col(Job.status).not_in(FINISHED))).all())
        grace = time.time() - ORPHAN_LOG_GRACE_SECONDS
        removed = freed = 0
        total = sum(size for _, size, _ in files)
        for job_id, size, mtime in sorted(files):  # ids follow creation: oldest first
            orphan = job_id not in existing and mtime < grace
            over = total > max_bytes and job_id in existing and job_id not in active
            if orphan or over:
                log_path(self.settings.job_logs_dir, job_id).unlink(missing_ok=True)
                removed, freed, total = removed + 1, freed + size, total - size
        return removed, freed

    def _vacuum_if_worth_it(self) -> bool:
        """VACUUM rewrites the whole file and blocks writers meanwhile: only when it wins much and
        nothing runs."""
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            free = raw.execute("PRAGMA freelist_count").fetchone()[0] * raw.execute("PRAGMA page_size").fetchone()[0]
            pages = raw.execute("PRAGMA page_count").fetchone()[0] * raw.execute("PRAGMA page_size").fetchone()[0]
        if free < VACUUM_MIN_BYTES or free * 4 < pages or not self._idle():
            return False
        with db.exclusive(self.engine), self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        logger.info("vacuumed the database: {:.0f} MB given back", free / _MB)
        return True

    # -- what the dashboard shows -----------------------------------------------------------------

    def storage(self, database_files: dict[str, Path], *, max_age: float = 60.0) -> Storage:
        """Disk use, cached for `max_age` seconds (scanning 100,000 log files takes a moment)."""
        cached = self._storage_cache
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        files = scan_logs(self.settings.job_logs_dir)
        databases = {name: _file_bytes(path) for name, path in database_files.items()}
        with db.session(self.engine, readonly=True) as session:
            oldest, count = session.exec(select(func.min(col(Job.created_at)), func.count()).select_from(Job)).one()
        storage = Storage(
            logs_bytes=sum(size for _, size, _ in files),
            log_files=len(files),
            databases=databases,
            oldest_job_at=oldest,
            jobs=count,
        )
        self._storage_cache = (time.monotonic(), storage)
        return storage


def _file_bytes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += Path(f"{path}{suffix}").stat().st_size
        except OSError:
            continue
    return total


def _audit_batch(session: Session, cutoff: datetime) -> int:
    ids = list(
        session.exec(
            select(col(AuditEvent.id)).where(col(AuditEvent.at) < cutoff).order_by(col(AuditEvent.id)).limit(BATCH)
        ).all()
    )
    if ids:
        session.execute(
            delete(AuditEvent).where(col(AuditEvent.id).in_(ids)), execution_options={"synchronize_session": False}
        )
    return len(ids)


def checkpoint(engine: Engine) -> bool:
    """`PRAGMA wal_checkpoint(TRUNCATE)`: copy the WAL into the database and cut it to zero bytes.
    False when a reader kept it from finishing (it is tried again at the next run), or on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        # TRUNCATE holds off writers while it waits for readers: wait briefly, not busy_timeout (30 s).
        raw.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.execute("PRAGMA busy_timeout=30000")  # the pooled connection's usual wait (db.py)
    return bool(busy == 0)


# -- bulk delete by a person (DELETE /api/v1/jobs, the jobs page's selection) -------------------------


def bulk_filters(
    *, actor: User, status: str | None = None, before: datetime | None = None, ids: Sequence[int] | None = None
) -> list[ColumnElement[bool]]:
    """What a bulk delete by `actor` may remove: finished jobs only (kill a running one first), and
    only its own unless a superuser. `delete_job_batch` applies them in short batches."""
    if status is not None and status not in FINISHED:
        raise invalid("status", f"only finished jobs can be deleted in bulk ({', '.join(FINISHED)})", "query")
    filters: list[ColumnElement[bool]] = []
    if not actor.is_superuser:
        filters.append(col(Job.created_by) == actor.id)
    if status is not None:
        filters.append(col(Job.status) == status)
    if before is not None:
        filters.extend(finished_before(before))
    if ids is not None:
        filters.append(col(Job.id).in_(list(ids)))
    return filters


def record_bulk_delete(*, session: Session, actor: User, count: int, what: str) -> None:
    audit.record(session, action="job.bulk_delete", target=f"{count} jobs ({what})", actor=actor)
