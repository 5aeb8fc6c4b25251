"""The data disk's free space, and what the app does while it runs out (issue 19).

A full disk is an episode, not a crash: SQLite answers "database or disk is full", a log write gets
ENOSPC, and both pass once space returns. `DiskWatch` looks at the free space of DATA_DIR once a
second (statvfs is cheap) and keeps one of three levels:

- `ok`;
- `low`: less than DISK_LOW_WARNING_MB free, a warning on /healthz and the dashboard;
- `full`: less than DISK_MIN_FREE_MB free, or a write just failed for want of space. The queues stop
  taking new jobs (running ones go on and record their outcome), new jobs are refused with a 507,
  /healthz says `degraded` and /readyz answers 503. A failed write keeps the level `full` until the
  free space has grown by _RECOVERY_MARGIN_MB since, as SQLite can fail with some space still free.

Each change of level is logged once, so a client retrying in a loop does not fill the log.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loguru import logger

from vcore_app.errors import AppError

Level = Literal["ok", "low", "full"]
_MB = 1024 * 1024
_CHECK_SECONDS = 1.0
_RECOVERY_MARGIN_MB = 1.0
INSUFFICIENT_STORAGE = 507


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or what it wraps (SQLAlchemy's `.orig`, a cause or context), is a write that
    failed for want of space: SQLITE_FULL or ENOSPC."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if isinstance(exc, sqlite3.Error) and (
            getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)
        ):
            return True
        orig = getattr(exc, "orig", None)
        exc = orig if isinstance(orig, BaseException) else (exc.__cause__ or exc.__context__)
    return False


def full_message(free_mb: float) -> str:
    return f"the data disk is full: {free_mb:.1f} MB free"


@dataclass(frozen=True)
class DiskStatus:
    level: Level
    free_mb: float
    reason: str | None  # one sentence for /healthz, /readyz and the banner; None while `ok`


class DiskWatch:
    """The level of the data disk, checked once a second by its own thread; `on_change(level)` hears
    of every change (the runtime pauses and resumes the queues)."""

    def __init__(
        self,
        path: Path,
        *,
        low_mb: float,
        min_free_mb: float,
        on_change: Callable[[Level], None] = lambda level: None,
    ) -> None:
        self.path = path
        self.low_mb = low_mb
        self.min_free_mb = min_free_mb
        self._on_change = on_change
        self._lock = threading.Lock()
        self._failed_at_mb: float | None = None  # free space when a write last failed, until it grows
        self._status = DiskStatus("ok", self._free_mb(), None)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="disk-watch", daemon=True)

    def start(self) -> None:
        self.check()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)

    @property
    def status(self) -> DiskStatus:
        return self._status

    @property
    def full(self) -> bool:
        return self._status.level == "full"

    def note_full(self) -> DiskStatus:
        """A write just failed for want of space: `full` now, whatever statvfs said a moment ago."""
        with self._lock:
            free = self._free_mb()
            self._failed_at_mb = free if self._failed_at_mb is None else min(free, self._failed_at_mb)
        return self.check()

    def refuse_if_full(self) -> None:
        """Raise the 507 a new job gets while the disk is full: it would only fill it further."""
        status = self.status
        if status.level == "full":
            raise AppError(f"{full_message(status.free_mb)}; new jobs wait until space returns", INSUFFICIENT_STORAGE)

    def error(self) -> AppError:
        """The 507 for a request whose write failed for want of space."""
        return AppError(full_message(self.note_full().free_mb), INSUFFICIENT_STORAGE)

    def check(self) -> DiskStatus:
        """Measure now, change the level if it moved (logging it once), return the status."""
        with self._lock:
            free = self._free_mb()
            if self._failed_at_mb is not None and free >= self._failed_at_mb + _RECOVERY_MARGIN_MB:
                self._failed_at_mb = None
            if free < self.min_free_mb or self._failed_at_mb is not None:
                status = DiskStatus(
                    "full", free, f"{full_message(free)}; the queues take no new jobs until space returns"
                )
            elif free < self.low_mb:
                status = DiskStatus("low", free, f"the data disk is low: {free:.1f} MB free")
            else:
                status = DiskStatus("ok", free, None)
            previous, self._status = self._status, status
        if status.level != previous.level:
            self._log_change(previous.level, status)
            try:
                self._on_change(status.level)
            except Exception:
                logger.exception("reacting to the data disk's level {} failed", status.level)
        return status

    def _log_change(self, previous: Level, status: DiskStatus) -> None:
        where = f"(data folder {self.path})"
        if status.level == "full":
            logger.error("{} {}", status.reason, where)
        elif status.level == "low":
            logger.warning("{} (warning below DISK_LOW_WARNING_MB={:g}) {}", status.reason, self.low_mb, where)
        else:
            logger.warning("the data disk has room again: {:.1f} MB free {}", status.free_mb, where)

    def _free_mb(self) -> float:
        try:
            return shutil.disk_usage(self.path).free / _MB
        except OSError:
            return 0.0

    def _loop(self) -> None:
        while not self._stopping.wait(_CHECK_SECONDS):
            try:
                self.check()
            except Exception:
                logger.exception("checking the data disk failed")
