"""The data folder is private: the folder 0700, every file in it 0600.

It holds password and API-key hashes, job environments, `api_post` headers and job output, so no
other local user may read any of it. Files are made by many hands (SQLite and its `-wal`/`-shm`,
Huey's SQLite queues, loguru and its rotated files, job logs, backups made by `VACUUM INTO`, the
instance lock), most of which take no mode argument. So the process sets umask 077 as the first
thing `main()` does (cli.py): every file any library creates afterwards is 0600, every folder 0700,
in the source checkout and in the frozen binary alike (both enter through `main()`).

Job children get the umask the user started us with back (jobs/processes.py `spawn`): a command job
that writes into a shared folder should make the files the operator's shell would, not private ones.

A data folder from an older version (0755, 0644 files) is tightened once at start (`tighten`), with a
log line naming how many entries changed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
_user_umask: int | None = None


def restrict_umask() -> None:
    """Make every file and folder this process creates from now on private; remember the old umask."""
    global _user_umask
    previous = os.umask(PRIVATE_UMASK)
    if _user_umask is None:
        _user_umask = previous


def user_umask() -> int:
    """The umask this process was started with: what job children get back."""
    if _user_umask is not None:
        return _user_umask
    current = os.umask(PRIVATE_UMASK)  # reading the umask means setting it: put it straight back
    os.umask(current)
    return current


def tighten(folder: Path) -> list[Path]:
    """Take group and other rights away from `folder` and everything in it; the paths changed.

    Symbolic links are left alone (their target may be outside the data folder, and a link's own
    mode means nothing); so are paths that vanish while we walk.
    """
    return [path for path in (folder, *_walk(folder)) if _make_private(path)]


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        found.extend(Path(root, name) for name in (*dirs, *files))
    return found


def _make_private(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return False
    try:
        os.chmod(path, stat.S_IMODE(mode) & 0o700)
    except FileNotFoundError:
        return False
    return True
