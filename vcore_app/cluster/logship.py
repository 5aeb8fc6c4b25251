"""Job logs any web node can read (issue 20): shipped into the database, mirrored back into files.

A worker writes a job's log to its own disk exactly as one process does (jobs/logs.py: the cap, the
full-disk markers), and the shipper copies what was added into `job_log_chunk` rows twice a second
and when the log closes, so the database holds the log within about half a second, still capped by
JOB_LOG_MAX_BYTES: when the cap rewrites the file, its chunks are replaced by the file as it is now,
under a new `generation`. Notes written by other nodes (a lost worker's jobs) are chunks too. The
log is its chunks of the newest generation in id order.

A web node reads a log through a mirror file (`DATA_DIR/logs/mirror/<id>.log`), brought up to date
from the chunks it has not seen before each read, so the readers of one process (a byte range, the
tail) serve it unchanged.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

from loguru import logger
from sqlalchemy import Engine, delete, func
from sqlmodel import col, select

from vcore_app import db
from vcore_app.jobs.logs import JobLog, log_path
from vcore_app.models import JobLogChunk

_SHIP_EVERY_SECONDS = 0.5


class _Shipped:
    def __init__(self, job_id: int, log: JobLog) -> None:
        self.job_id = job_id
        self.log = log
        self.offset = log.size
        self.compactions = log.compactions
        self.lock = threading.Lock()  # the pass and ship_now never ship the same bytes twice


class _Chunk(NamedTuple):
    job_id: int
    data: bytes
    capped: bool  # the cap rewrote the file: this is all of it, replacing what was shipped


class LogShipper:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: dict[int, _Shipped] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="log-shipper", daemon=True)

    def track(self, job_id: int, log: JobLog) -> None:
        """Ship what `log` writes from now on (what it held before was shipped by whoever wrote it)."""
        with self._lock:
            self._open[id(log)] = _Shipped(job_id, log)

    def ship_now(self, log: JobLog) -> None:
        """Store what `log` has not shipped yet, now: the runner calls it before it records the
        outcome, so a job is never `done` on a web node before its output is there. Never inside a
        transaction (SQLite has one writer)."""
        with self._lock:
            shipped = self._open.get(id(log))
        if shipped is not None:
            self._ship(shipped)

    def closing(self, log: JobLog) -> None:
        """JobLog's on_close: its last lines, stored now (see ship_now). Once all of it is in the
        database, the file here is only a spool: it goes, so a worker node's disk does not keep a
        copy of every log it ever wrote (the database's copy is the one retention prunes). After a
        failed ship it stays, for whoever looks on that machine."""
        with self._lock:
            shipped = self._open.pop(id(log), None)
        if shipped is not None and self._ship(shipped):
            log.path.unlink(missing_ok=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopping.wait(_SHIP_EVERY_SECONDS):
            self._pass()

    def _pass(self) -> None:
        with self._lock:
            open_logs = list(self._open.values())
        for shipped in open_logs:
            self._ship(shipped)

    def _ship(self, shipped: _Shipped) -> bool:
        """True when all it had written is in the database now."""
        with shipped.lock:
            chunk = self._take(shipped)
            if chunk is None:
                return True
            try:
                self._store(chunk)
            except Exception as exc:  # the job goes on; its log in the database has a hole
                logger.warning("could not ship the log of job {}: {}", chunk.job_id, exc)
                return False
            return True

    @staticmethod
    def _take(shipped: _Shipped) -> _Chunk | None:
        capped = shipped.log.compactions != shipped.compactions
        data, size, compactions = shipped.log.read_from(0 if capped else shipped.offset)
        shipped.offset, shipped.compactions = size, compactions
        return _Chunk(shipped.job_id, data, capped) if data or capped else None

    def _store(self, chunk: _Chunk) -> None:
        with db.session(self.engine) as session:
            generation = session.exec(
                select(func.coalesce(func.max(JobLogChunk.generation), 0)).where(
                    col(JobLogChunk.job_id) == chunk.job_id
                )
            ).one()
            if chunk.capped:
                session.execute(delete(JobLogChunk).where(col(JobLogChunk.job_id) == chunk.job_id))
                generation += 1
            session.add(JobLogChunk(job_id=chunk.job_id, generation=generation, data=chunk.data))


class LogMirror:
    """Readers' side: `path(job_id)` is a file holding the job's log as shipped so far."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self._seen: dict[int, tuple[int, int]] = {}  # job id -> (generation, last chunk id) in its file
        self._lock = threading.Lock()

    def path(self, job_id: int) -> Path:
        """Blocks (database, file): call it off the event loop."""
        path = log_path(self.folder, job_id)
        with self._lock:
            generation, last = self._seen.get(job_id, (-1, 0))
            with db.session(self.engine, readonly=True) as session:
                newest: int | None = session.exec(
                    select(func.max(JobLogChunk.generation)).where(col(JobLogChunk.job_id) == job_id)
                ).one()
                if newest is None:  # nothing shipped, or the job is gone
                    path.unlink(missing_ok=True)
                    self._seen.pop(job_id, None)
                    return path
                if newest != generation or not path.exists():
                    last = 0
                rows = session.exec(
                    select(JobLogChunk.id, JobLogChunk.data)
                    .where(
                        col(JobLogChunk.job_id) == job_id,
                        col(JobLogChunk.generation) == newest,
                        col(JobLogChunk.id) > last,
                    )
                    .order_by(col(JobLogChunk.id))
                ).all()
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(path, "ab" if last else "wb") as fh:
                for chunk_id, data in rows:
                    fh.write(data)
                    last = chunk_id or last
            path.chmod(0o600)
            self._seen[job_id] = (newest, last)
        return path
