"""One running vcore-app per data folder: `DATA_DIR/vcore-app.lock`.

The file holds `{"pid": ..., "port": ..., "url": ...}` of the instance that runs on the folder, so a
second start can tell the user (or the browser) where it is. Whether that instance is alive is decided
by an OS lock (`fcntl.flock`) on the file, not by its contents: the kernel drops the lock when the
process dies, so a file left behind by a crash or SIGKILL is simply taken over by the next start.

The file is never deleted: unlinking a locked file lets two processes lock two different files of the
same name. POSIX only, like the rest of the process handling (process groups, signals).
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_FILE = "vcore-app.lock"


@dataclass(frozen=True)
class Holder:
    """What the running instance wrote about itself; `url` is None while it is still starting."""

    pid: int | None
    url: str | None


class AlreadyRunning(Exception):
    def __init__(self, path: Path, holder: Holder) -> None:
        super().__init__(f"{path} is locked by pid {holder.pid}")
        self.path = path
        self.holder = holder


class InstanceLock:
    """The lock on a data folder, held from `acquire()` until `release()` or the end of the process."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> InstanceLock:
        """Lock the data folder for this process, or raise AlreadyRunning with what the holder wrote."""
        path = data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children (PEP 446)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(path, read_holder(path)) from None
        lock = cls(path, fd)
        lock._write({"pid": os.getpid()})
        return lock

    def publish(self, *, port: int, url: str) -> None:
        """Tell later starts where this instance listens."""
        self._write({"pid": os.getpid(), "port": port, "url": url})

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the last descriptor drops the flock
        self._fd = None

    def _write(self, content: dict[str, Any]) -> None:
        if self._fd is None:  # released: the process is stopping, there is nothing to tell
            return
        # Overwrite, then cut: a reader sees the old or the new object first, never an empty file.
        data = json.dumps(content).encode() + b"\n"
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))


def read_holder(path: Path) -> Holder:
    """Best effort: the first JSON object in the file (what follows it may be left over from a longer one)."""
    try:
        content, _ = json.JSONDecoder().raw_decode(path.read_text())
    except (OSError, ValueError):
        content = {}
    if not isinstance(content, dict):
        content = {}
    pid, url = content.get("pid"), content.get("url")
    return Holder(pid=pid if isinstance(pid, int) else None, url=url if isinstance(url, str) else None)
